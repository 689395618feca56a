"""What the original asks a user to do by hand before the first apply, done at start.

Account A gets an IAM user ``operator`` with an access key (the post's "CLI identity");
account B gets the ``terraform`` role, trusting that user, with the permissions of
``infra/bootstrap/``, and the managed policy that must bound role B — the same templates
the README tells real users to fill and apply, filled here with infra/'s defaults
(:mod:`crosstrack.local.setup.deploy_role`), as the local demo deploys with them. These
writes go straight to the emulator's state, as an account administrator's console clicks
would: nothing can sign a request before they exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from crosstrack import resources
from crosstrack.local.accounts import (
    ACCOUNT_A,
    ACCOUNT_B,
    OPERATOR_POLICY,
    OPERATOR_USER,
    PARTITION,
    TERRAFORM_ROLE,
    TERRAFORM_ROLE_POLICY,
    user_arn,
)
from crosstrack.local.errors import BootstrapError
from crosstrack.local.moto import state
from crosstrack.local.setup.deploy_role import (
    DeployRoleValues,
    boundary_policy,
    create_boundary_policy,
    fill,
)

TRUST_FILE = "terraform-role-trust.json"
PERMISSIONS_FILE = "terraform-role-permissions.json"
OPERATOR_PLACEHOLDER = "${operator_arn}"

# The operator administers account A (it deploys the Lambda, its role and schedule there);
# what matters for this project is that it reaches account B only through the role.
OPERATOR_POLICY_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "AdministerAccountA", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass(frozen=True)
class OperatorCredentials:
    """The operator's long-term access key in account A."""

    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class Bootstrapped:
    operator: OperatorCredentials
    operator_arn: str
    terraform_role_arn: str


def default_directory() -> Path:
    """``infra/bootstrap`` of the checkout, else the installed package's copy (resources.py)."""
    return resources.bootstrap_dir()


def _read(directory: Path, name: str) -> str:
    path = directory / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BootstrapError(
            f"cannot read {path}: {exc.strerror}; the local AWS creates B's terraform role "
            "from infra/bootstrap/ (the checkout's, the installed package's, or that of --infra)"
        ) from exc


def trust_policy(directory: Path, operator_arn: str) -> str:
    """The terraform role's trust policy with ``${operator_arn}`` substituted."""
    text = _read(directory, TRUST_FILE)
    if OPERATOR_PLACEHOLDER not in text:
        raise BootstrapError(
            f"{directory / TRUST_FILE} lacks the {OPERATOR_PLACEHOLDER} placeholder"
        )
    return fill(text, DeployRoleValues(operator_arn), source=str(directory / TRUST_FILE))


def permissions_policy(directory: Path, values: DeployRoleValues) -> str:
    """The terraform role's permissions, the template filled with ``values``."""
    return fill(
        _read(directory, PERMISSIONS_FILE), values, source=str(directory / PERMISSIONS_FILE)
    )


def run(directory: Path) -> Bootstrapped:
    """Create the operator user and key in A and the terraform role in B."""
    # Fill both templates before touching any state (the operator's ARN is known in advance).
    values = DeployRoleValues(operator_arn=user_arn(ACCOUNT_A, OPERATOR_USER), partition=PARTITION)
    trust = trust_policy(directory, values.operator_arn)
    permissions = permissions_policy(directory, values)
    boundary_policy(directory, values)  # role B's boundary: refused here, before any write

    operator_arn = state.create_user(ACCOUNT_A, OPERATOR_USER)
    if operator_arn != values.operator_arn:
        raise BootstrapError(f"the operator is {operator_arn}, not {values.operator_arn}")
    state.put_user_policy(
        ACCOUNT_A, OPERATOR_USER, OPERATOR_POLICY, json.dumps(OPERATOR_POLICY_DOCUMENT)
    )
    key_id, secret = state.create_access_key(ACCOUNT_A, OPERATOR_USER)

    create_boundary_policy(directory, values)
    role_arn = state.create_role(
        ACCOUNT_B,
        TERRAFORM_ROLE,
        trust,
        "Deploys crosstrack's account-B resources; assumed by the operator in A",
    )
    state.put_role_policy(ACCOUNT_B, TERRAFORM_ROLE, TERRAFORM_ROLE_POLICY, permissions)
    return Bootstrapped(
        operator=OperatorCredentials(key_id, secret),
        operator_arn=operator_arn,
        terraform_role_arn=role_arn,
    )
