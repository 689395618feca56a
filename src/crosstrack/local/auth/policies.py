"""What governs a request: policy documents read from the emulator's own state, per account.

Every layer of https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
that the emulator holds: identity policies (inline and attached, on users, their groups and
roles), permissions boundaries, the target role's trust policy, bucket policies, KMS key
policies and Lambda function policies. Each is returned as the engine's named policy
``{"name": ..., "document": {...}}`` so explanations can say which one decided.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from crosstrack.local.accounts import REGION
from crosstrack.local.auth.actions import ContextValue, resource_account, split_s3_arn
from crosstrack.local.auth.decisions import Question
from crosstrack.local.auth.principals import Caller
from crosstrack.local.moto import resources, state
from crosstrack.local.moto.resources import Key
from crosstrack.local.moto.state import Entity

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


def _entity_policies(entity: Entity) -> list[NamedPolicy]:
    found = [
        _named(f"{name} (inline policy of {entity.kind} {entity.name})", text)
        for name, text in entity.inline
    ]
    found += [_named(arn, text) for arn, text in entity.attached]
    return found


def identity_policies(caller: Caller) -> list[NamedPolicy]:
    """Inline and attached policies of the user (and its groups) or of the session's role."""
    if caller.kind == "user":
        found = _entity_policies(state.user(caller.account, caller.name))
        for group in state.groups_of_user(caller.account, caller.name):
            found += _entity_policies(group)
        return found
    role = role_by_arn(caller.principal_arn)
    return [] if role is None else _entity_policies(role)


def permissions_boundary(caller: Caller) -> NamedPolicy | None:
    """The managed policy set as the user's or role's permissions boundary, if any."""
    if caller.kind == "user":
        entity: Entity | None = state.user(caller.account, caller.name)
    else:
        entity = role_by_arn(caller.principal_arn)
    arn = entity.boundary_arn if entity is not None else None
    if not arn:
        return None
    # Customer-managed policies live in their account, AWS-managed ones in every account.
    document = state.managed_policy(caller.account, arn)
    return None if document is None else _named(arn, document)


def question(
    caller: Caller,
    action: str,
    *,
    resource: str,
    resource_account: str | None,
    context: Mapping[str, ContextValue],
    resource_policy: NamedPolicy | None,
) -> Question:
    """May ``caller`` do ``action`` on ``resource``? With every policy of the caller's side:
    its identity policies, permissions boundary and session policy."""
    return Question(
        principal=caller.arn,
        principal_arn=caller.principal_arn,
        action=action,
        resource=resource,
        resource_account=resource_account,
        context=dict(context),
        identity_policies=identity_policies(caller),
        permission_boundary=permissions_boundary(caller),
        session_policy=(
            {
                "name": f"session policy of {caller.arn}",
                "document": json.loads(caller.session_policy),
            }
            if caller.session_policy
            else None
        ),
        resource_policy=resource_policy,
    )


def role_by_arn(arn: str) -> Entity | None:
    """The role an ARN names, looked up in *its own* account (``None`` when it doesn't exist).

    moto looks a target role up in the caller's account; AWS resolves the ARN, and
    a role that does not exist cannot be assumed by anyone.
    """
    return state.role_by_arn(arn)


def trust_policy(role: Entity) -> NamedPolicy:
    return _named(f"trust policy of {role.arn}", role.trust_policy)


bucket_account = resources.bucket_account
bucket = resources.bucket


def bucket_policy(bucket_name: str) -> NamedPolicy | None:
    found = bucket(bucket_name)
    if found is None or not found.policy:
        return None
    return _named(f"bucket policy of {bucket_name}", found.policy)


def kms_key(account: str, key_id: str, region: str = REGION) -> Key | None:
    """A KMS key by id, ARN or alias, in the account the identifier names (else ``account``)."""
    return resources.kms_key(account, key_id, region)


def key_policy(key: Key) -> NamedPolicy:
    return _named(f"key policy of {key.arn}", key.policy)


def function_policy(account: str, function_name: str, region: str = REGION) -> NamedPolicy | None:
    """The resource-based policy of a Lambda function (the ``AddPermission`` statements)."""
    text = resources.function_policy(account, function_name, region)
    return _named(f"resource policy of function {function_name}", text) if text else None


def resource_policy(
    action: str, resource: str, account: str, region: str = REGION
) -> NamedPolicy | None:
    """The resource-based policy AWS evaluates with ``action`` on ``resource`` (None: none).

    By the action's service: a role's trust policy (sts), the bucket policy (s3), the key
    policy (kms; an alias has no policy of its own, so IAM policies alone decide on it), the
    function's policy (lambda). ``account`` owns a resource whose ARN names no account.
    """
    service = action.split(":", 1)[0].lower()
    if resource == "*" or (service == "kms" and ":alias/" in resource):
        return None
    if service == "sts":
        role = role_by_arn(resource)
        return trust_policy(role) if role is not None else None
    if service == "s3":
        bucket_name, _ = split_s3_arn(resource)
        return bucket_policy(bucket_name) if bucket_name else None
    if service == "kms":
        key = kms_key(account, resource, region)
        return key_policy(key) if key is not None else None
    if service == "lambda" and ":function:" in resource:
        name = resource.split(":function:", 1)[1].split(":", maxsplit=1)[0]
        return function_policy(resource_account(resource, account), name, region)
    return None
