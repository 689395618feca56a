"""What is specific to one service when deciding: S3's rules, the resources and resource policies
of the other services, credentials for AWS service principals.
"""
