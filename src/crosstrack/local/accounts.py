"""The fixed facts of the local two-account AWS: account ids, region, bootstrap names."""

from __future__ import annotations

from typing import Final

ACCOUNT_A: Final = "111111111111"
"""Source account: the operator, the Lambda and its execution role live here."""

ACCOUNT_B: Final = "222222222222"
"""Target account: the log bucket, role B and the ``terraform`` deploy role live here."""

ACCOUNTS: Final = (ACCOUNT_A, ACCOUNT_B)

REGION: Final = "us-east-1"
PARTITION: Final = "aws"

OPERATOR_USER: Final = "operator"
"""The IAM user in account A whose access key is the original's "CLI identity"."""

OPERATOR_POLICY: Final = "operator-administrator"

TERRAFORM_ROLE: Final = "terraform"
"""The deploy role in account B (design.md, Names), assumed by the operator."""

TERRAFORM_ROLE_POLICY: Final = "terraform-deploy"

SERVICE_PRINCIPALS: Final = frozenset(
    {"lambda.amazonaws.com", "scheduler.amazonaws.com", "events.amazonaws.com"}
)
"""Services the emulator's own components may act as (Lambda runner, scheduler)."""


def role_arn(account: str, name: str, path: str = "/") -> str:
    """The ARN of a role; the path is part of it (``role/path/name``)."""
    return f"arn:{PARTITION}:iam::{account}:role{path}{name}"


def user_arn(account: str, name: str, path: str = "/") -> str:
    return f"arn:{PARTITION}:iam::{account}:user{path}{name}"
