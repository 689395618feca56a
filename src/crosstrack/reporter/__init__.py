"""What runs in Lambda: the cross-account ISS reporter.

Imports only the standard library, boto3/botocore and sgp4 (the Lambda zip holds this
package and those dependencies, nothing else). Entry point:
``crosstrack.reporter.handler.lambda_handler``.
"""
