"""Filling the deploy role's policy templates of ``infra/bootstrap/`` (issue 11, item 1).

``terraform-role-permissions.json`` and ``terraform-role-trust.json`` are templates with
named placeholders ``${partition}``, ``${bucket_prefix}``, ``${target_role_name}`` and
``${operator_arn}``, filled from the same values as ``infra/``'s variables (``aws_partition``,
``bucket_prefix``, ``target_role_name``) and the operator's ARN. They look like IAM policy
variables but are not: after filling, no ``${`` may remain, and every value is checked
against what infra/'s variable validation accepts, so a value can never widen a Resource
(a ``*`` in ``bucket_prefix`` would). The one real IAM policy variable the templates use,
``${aws:PrincipalAccount}`` (account B, in the deploy role's own requests), is left as it is:
it names the boundary policy in B without a placeholder for B's account id
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).

``target-role-boundary.json`` is the permissions boundary role B must carry
(:data:`BOUNDARY_POLICY_NAME`): the deploy role may create or change role B only with it
(``iam:PermissionsBoundary``), AWS's pattern for delegating role creation
(https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html, "Delegating
responsibility to others using permissions boundaries"). Stdlib only, so the escalation tests
need no AWS; :func:`create_boundary_policy` takes the emulator's IAM backend as a parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from crosstrack.local.errors import BootstrapError

PLACEHOLDERS: Final = ("partition", "bucket_prefix", "target_role_name", "operator_arn")
POLICY_VARIABLES: Final = frozenset({"aws:PrincipalAccount"})
"""IAM policy variables a template may hold: filled by AWS at evaluation time, not by us."""

BOUNDARY_FILE: Final = "target-role-boundary.json"
BOUNDARY_POLICY_NAME: Final = "crosstrack-target-role-boundary"
"""The managed policy in account B that bounds role B (infra/'s default boundary ARN)."""

DEPLOY_TAG_KEY: Final = "crosstrack-deploy"
"""The tag that marks a KMS key as this deployment's (value: the bucket prefix).

The deploy role may create a key only with this request tag (``aws:RequestTag``) and act
only on keys carrying it (``aws:ResourceTag``); infra/modules/target-account tags its key so.
"""

# The same rules as infra/variables.tf's validation blocks.
_RULES: Final[Mapping[str, tuple[re.Pattern[str], str]]] = {
    "partition": (re.compile(r"aws|aws-cn|aws-us-gov"), "one of aws, aws-cn, aws-us-gov"),
    "bucket_prefix": (
        re.compile(r"[a-z0-9][a-z0-9.-]{0,36}"),
        "1-37 lowercase letters, digits, '.' or '-', starting with a letter or digit",
    ),
    "target_role_name": (re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}"), "1-64 of A-Za-z0-9+=,.@_-"),
    "operator_arn": (
        re.compile(
            r"arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:(user|role|assumed-role|root)[\x21-\x7e]*"
        ),
        "an IAM user, role or assumed-role ARN (aws sts get-caller-identity)",
    ),
}
_ANY_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class DeployRoleValues:
    """What the templates are filled with; defaults are infra/'s (design.md, Names)."""

    operator_arn: str
    partition: str = "aws"
    bucket_prefix: str = "iss-reporting-"
    target_role_name: str = "access-s3-bucket"

    def as_mapping(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in PLACEHOLDERS}


def _check(values: Mapping[str, str]) -> None:
    for name, (pattern, rule) in _RULES.items():
        value = values.get(name)
        if value is None:
            raise BootstrapError(f"no value for the placeholder ${{{name}}}")
        if not pattern.fullmatch(value) or "*" in value or "?" in value or "$" in value:
            raise BootstrapError(f"{name} {value!r} is not allowed here: it must be {rule}")
    if ".." in values["bucket_prefix"]:
        raise BootstrapError("bucket_prefix must not contain '..'")


def fill(template: str, values: DeployRoleValues | Mapping[str, str], *, source: str) -> str:
    """``template`` with every named placeholder replaced; compact JSON.

    Refuses unknown or leftover placeholders and values infra/ would reject, so a typo
    never ships a policy with a literal ``${...}`` in it.
    """
    mapping = values.as_mapping() if isinstance(values, DeployRoleValues) else dict(values)
    _check(mapping)
    unknown = sorted(
        {
            m
            for m in _ANY_PLACEHOLDER.findall(template)
            if m not in PLACEHOLDERS and m not in POLICY_VARIABLES
        }
    )
    if unknown:
        names = ", ".join("${" + u + "}" for u in unknown)
        raise BootstrapError(f"{source} has unknown placeholders {names}")
    text = _ANY_PLACEHOLDER.sub(lambda m: mapping.get(m.group(1), m.group(0)), template)
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BootstrapError(f"{source} is not valid JSON once filled: {exc}") from exc
    return json.dumps(document)


def boundary_arn(partition: str, account: str) -> str:
    """The ARN of role B's boundary policy in ``account`` (what infra/ defaults to)."""
    return f"arn:{partition}:iam::{account}:policy/{BOUNDARY_POLICY_NAME}"


def boundary_policy(directory: Path, values: DeployRoleValues) -> str:
    """``target-role-boundary.json`` of ``directory``, filled with ``values``."""
    path = directory / BOUNDARY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BootstrapError(f"cannot read {path}: {exc.strerror}") from exc
    return fill(text, values, source=str(path))


def create_boundary_policy(directory: Path, values: DeployRoleValues) -> str:
    """Create role B's boundary policy in the emulator's account B; its ARN.

    The bootstrap's (account administrator's) step: the deploy role itself may never create,
    change or delete it.
    """
    from crosstrack.local.accounts import ACCOUNT_B
    from crosstrack.local.moto import state

    return state.create_policy(
        ACCOUNT_B,
        BOUNDARY_POLICY_NAME,
        boundary_policy(directory, values),
        "The most crosstrack's role B may ever do; required by the deploy role",
    )
