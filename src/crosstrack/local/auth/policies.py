"""What governs a request: policy documents read from the emulator's own state, per account.

Every layer of https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
that the emulator holds: identity policies (inline and attached, on users, their groups and
roles), permissions boundaries, the target role's trust policy, bucket policies, KMS key
policies and Lambda function policies. Each is returned as the engine's named policy
``{"name": ..., "document": {...}}`` so explanations can say which one decided.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from moto.awslambda.models import lambda_backends
from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.s3.models import s3_backends

from crosstrack.local.accounts import PARTITION, REGION
from crosstrack.local.auth.principals import Caller

NamedPolicy = dict[str, Any]


def _document(text: str | bytes) -> dict[str, Any]:
    if isinstance(text, bytes):
        text = text.decode()
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        # IAM hands documents back URL-encoded; some stores keep them that way.
        parsed = json.loads(unquote(text))
    if not isinstance(parsed, dict):
        raise ValueError("a policy document must be a JSON object")
    return parsed


def _named(name: str, text: str | bytes) -> NamedPolicy:
    return {"name": name, "document": _document(text)}


def _managed_document(policy: Any) -> str:
    default = next(v for v in policy.versions if v.is_default)
    return str(default.document)


def _iam(account: str) -> Any:
    return iam_backends[account][PARTITION]


def _managed_policy(account: str, arn: str) -> Any | None:
    # Customer-managed policies live in their account, AWS-managed ones in every account.
    return _iam(account).managed_policies.get(arn)


def _entity_policies(kind: str, entity: Any) -> list[NamedPolicy]:
    found = [
        _named(f"{name} (inline policy of {kind} {entity.name})", text)
        for name, text in sorted(entity.policies.items())
    ]
    found += [
        _named(arn, _managed_document(policy))
        for arn, policy in sorted(entity.managed_policies.items())
    ]
    return found


def identity_policies(caller: Caller) -> list[NamedPolicy]:
    """Inline and attached policies of the user (and its groups) or of the session's role."""
    backend = _iam(caller.account)
    if caller.kind == "user":
        user = backend.get_user(caller.name)
        found = _entity_policies("user", user)
        for group in backend.get_groups_for_user(user.name):
            found += _entity_policies("group", group)
        return found
    role = role_by_arn(caller.principal_arn)
    return [] if role is None else _entity_policies("role", role)


def permissions_boundary(caller: Caller) -> NamedPolicy | None:
    """The managed policy set as the user's or role's permissions boundary, if any."""
    if caller.kind == "user":
        entity = _iam(caller.account).get_user(caller.name)
    else:
        entity = role_by_arn(caller.principal_arn)
    arn = getattr(entity, "permissions_boundary_arn", None) if entity is not None else None
    if not arn:
        return None
    policy = _managed_policy(caller.account, arn)
    if policy is None:
        return None
    return _named(arn, _managed_document(policy))


def role_by_arn(arn: str) -> Any | None:
    """The role an ARN names, looked up in *its own* account (``None`` when it doesn't exist).

    moto looks a target role up in the caller's account; AWS resolves the ARN, and
    a role that does not exist cannot be assumed by anyone.
    """
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    account = parts[4]
    if account not in iam_backends:
        return None
    # The path is part of the ARN: role/path/name only matches the role with that path.
    return next((r for r in list(_iam(account).roles.values()) if r.arn == arn), None)


def trust_policy(role: Any) -> NamedPolicy:
    return _named(f"trust policy of {role.arn}", role.assume_role_policy_document)


def bucket_account(bucket: str) -> str | None:
    """The account that owns a bucket (bucket names are global, as in AWS)."""
    owner = s3_backends.bucket_accounts.get(bucket)
    return None if owner is None else str(owner[1])


def bucket(bucket_name: str) -> Any | None:
    account = bucket_account(bucket_name)
    if account is None:
        return None
    return s3_backends[account][PARTITION].buckets.get(bucket_name)


def bucket_policy(bucket_name: str) -> NamedPolicy | None:
    found = bucket(bucket_name)
    if found is None or not found.policy:
        return None
    return _named(f"bucket policy of {bucket_name}", found.policy)


def kms_key(account: str, key_id: str, region: str = REGION) -> Any | None:
    """A KMS key by id, ARN or alias, in the account the identifier names (else ``account``)."""
    if key_id.startswith("arn:"):
        parts = key_id.split(":")
        account, region = parts[4], parts[3]
    backend = kms_backends[account][region]
    try:
        return backend.describe_key(key_id)
    except Exception:  # moto raises its NotFoundException family; absence is the answer
        return None


def key_policy(key: Any) -> NamedPolicy:
    return _named(f"key policy of {key.arn}", key.policy)


def function_policy(account: str, function_name: str, region: str = REGION) -> NamedPolicy | None:
    """The resource-based policy of a Lambda function (the ``AddPermission`` statements)."""
    backend = lambda_backends[account][region]
    try:
        text = backend.get_policy(function_name, None)
    except Exception:  # moto raises ResourceNotFound when no statement was ever added
        return None
    return _named(f"resource policy of function {function_name}", text) if text else None
