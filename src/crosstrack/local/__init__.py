"""crosstrack's local two-account AWS: moto, served over HTTPS, with IAM enforced by crosstrack.iam.

Accounts A = 111111111111 and B = 222222222222 live on 127.0.0.1 only. moto (pinned) keeps
the resources; crosstrack replaces its authorization: every request from every client
(boto3, awscli, Terraform, the demo's own Lambda runner and scheduler) is authenticated
(SigV4 over the raw request, keys resolved in their own account) and decided by
``crosstrack.iam.evaluate`` against the emulator's own policies — identity policies inline
and attached, permissions boundaries, session policies, trust policies (the target role
looked up in *its* account; a missing role cannot be assumed), bucket policies with their
principals and conditions, KMS key policies for SSE-KMS objects, Lambda function policies,
``iam:PassRole`` — and appended to a JSON Lines audit log. Denials come back in each
service's own error format with AWS's message shape.

Public API::

    from crosstrack.local import LocalAWS

    with LocalAWS(Path("work/local")) as aws:     # port=0: any free port
        aws.endpoint            # https://127.0.0.1:<port>
        aws.http_endpoint       # plain HTTP (aws:SecureTransport = false)
        aws.ca_bundle           # CA generated at start; trust it with AWS_CA_BUNDLE
        aws.operator            # OperatorCredentials of IAM user "operator" in account A
        aws.config_file, aws.credentials_file   # profiles default/account-a, account-b
        aws.audit_log           # JSON Lines, one line per authorization decision
        aws.env()               # the export variables of design.md, in order
        aws.export_lines()      # ["export AWS_ENDPOINT_URL=…", …]
        creds = aws.services.assume_role("lambda.amazonaws.com", role_arn,
                                         source_account=A, source_arn=function_arn)
        verdict = aws.services.authorize("scheduler.amazonaws.com", "lambda:InvokeFunction",
                                         function_arn, source_account=A, source_arn=schedule_arn)

Bootstrap (at start): the operator user with an access key in A, and B's ``terraform``
role with the trust and permissions of ``infra/bootstrap/``. One LocalAWS per process.
"""

from __future__ import annotations

from crosstrack.iam import Decision
from crosstrack.local.accounts import ACCOUNT_A, ACCOUNT_B, REGION
from crosstrack.local.emulator import LocalAWS
from crosstrack.local.errors import (
    BootstrapError,
    LocalAWSError,
    MissingDependencyError,
    MotoSeamError,
    PortInUseError,
)
from crosstrack.local.services.service_access import (
    AccessDeniedError,
    ServiceAccess,
    ServiceCredentials,
)
from crosstrack.local.setup.bootstrap import OperatorCredentials

__all__ = [
    "ACCOUNT_A",
    "ACCOUNT_B",
    "REGION",
    "AccessDeniedError",
    "BootstrapError",
    "Decision",
    "LocalAWS",
    "LocalAWSError",
    "MissingDependencyError",
    "MotoSeamError",
    "OperatorCredentials",
    "PortInUseError",
    "ServiceAccess",
    "ServiceCredentials",
]
