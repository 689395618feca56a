"""Deciding one request: signatures and payloads, request -> operation -> IAM actions and
resources, the request context, the decision (crosstrack.iam), the audit log, AWS's error
bodies.
"""
