"""The only code that imports moto (pinned): the seams crosstrack patches (seams.py), the IAM
and STS state (state.py) and the S3, KMS, Lambda and Scheduler state (resources.py) it reads
and writes as plain values, and moto's WSGI application (app.py).
"""
