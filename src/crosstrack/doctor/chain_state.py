"""The state of any chain, read call by call (calls.py): a role or user with its policies, and
the resource policy of the final resource, chosen by the resource's ARN.

Shapes accepted are the aws-cli's (= boto3's) output: get-role's ``AssumeRolePolicyDocument``
and get-role-policy's ``PolicyDocument`` as a JSON object (CLI) or URL-encoded JSON (raw API);
a ``Policy`` attribute of a bucket, key, function, bus or queue as a JSON string. Every policy
is validated as it is read, so a malformed one stops the run (exit 2) naming its file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crosstrack.doctor.calls import Answer, Call, Source
from crosstrack.doctor.model import DoctorInputError, NamedPolicy, RoleState
from crosstrack.doctor.reads import Unreadable, policy_document
from crosstrack.doctor.rows import without_unique_ids
from crosstrack.iam import PolicyError, PolicyKind, parse_policy


def _field(answer: Answer, *path: str) -> Any:
    value: Any = answer.data
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            raise DoctorInputError(
                f"{answer.origin}: no {'.'.join(path)} (is it that call's output?)"
            )
        value = value[key]
    return value


def _policy(answer: Answer, raw: Any, kind: PolicyKind, name: str) -> NamedPolicy:
    try:
        document = policy_document(raw)
        # The engine rejects a bare unique id (AROA...) as a principal: read it as nobody.
        if kind in (PolicyKind.TRUST, PolicyKind.RESOURCE):
            document = dict(without_unique_ids(document))
        parse_policy(document, kind, name=name)
    except (ValueError, PolicyError) as exc:
        raise DoctorInputError(f"{answer.origin}: {name} is not a valid policy: {exc}") from None
    return NamedPolicy(name, document, answer.origin)


def arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def _managed(
    source: Source, account: str, arn: str, state: RoleState, part: str
) -> NamedPolicy | None:
    owner = None if arn.split(":")[4] == "aws" else account
    name = arn.rsplit("/", 1)[-1]
    try:
        meta = source.fetch(Call(owner, "get-policy", (name,), (arn,)))
        version = str(_field(meta, "Policy", "DefaultVersionId"))
        answer = source.fetch(Call(owner, "get-policy-version", (name, version), (arn, version)))
    except Unreadable as exc:
        state.unreadable.setdefault(part, exc.reason)
        return None
    kind = PolicyKind.BOUNDARY if part == "boundary" else PolicyKind.IDENTITY
    return _policy(answer, _field(answer, "PolicyVersion", "Document"), kind, f"{name} ({arn})")


def load_principal(source: Source, arn: str, *, user: bool = False) -> RoleState:
    """A role (or, with ``user``, an IAM user: no trust) and every policy that limits it."""
    kind = "user" if user else "role"
    Kind = kind.capitalize()
    account, name = arn.split(":")[4], arn.rsplit("/", 1)[-1]
    state = RoleState(arn=arn, address="")
    try:
        got = source.fetch(Call(account, f"get-{kind}", (name,), (name,)))
        entity = _field(got, Kind)
        state = RoleState(arn=str(entity.get("Arn", arn)), address=got.origin,
                          unique_id=entity.get(f"{Kind}Id"))  # fmt: skip
        if not user:
            state.trust = _policy(
                got, _field(got, Kind, "AssumeRolePolicyDocument"), PolicyKind.TRUST,
                f"trust policy of {name}",
            ).document  # fmt: skip
            state.max_session_seconds = int(entity.get("MaxSessionDuration", 3600))
        boundary = entity.get("PermissionsBoundary")
        if isinstance(boundary, Mapping) and boundary.get("PermissionsBoundaryArn"):
            state.boundary = _managed(
                source, account, str(boundary["PermissionsBoundaryArn"]), state, "boundary"
            )
    except Unreadable as exc:
        for part in ("trust", "boundary", "duration"):
            state.unreadable[part] = exc.reason
    try:
        listed = source.fetch(Call(account, f"list-{kind}-policies", (name,), (name,)))
        for policy in _field(listed, "PolicyNames"):
            answer = source.fetch(
                Call(account, f"get-{kind}-policy", (name, policy), (name, policy))
            )
            state.inline.append(
                _policy(answer, _field(answer, "PolicyDocument"), PolicyKind.IDENTITY,
                        f"inline policy {policy} of {name}")
            )  # fmt: skip
        attached = source.fetch(Call(account, f"list-attached-{kind}-policies", (name,), (name,)))
        for item in _field(attached, "AttachedPolicies"):
            policy = _managed(source, account, str(item["PolicyArn"]), state, "policies")
            if policy is not None:
                state.attached.append(policy)
    except Unreadable as exc:
        state.unreadable["policies"] = exc.reason
    return state


@dataclass(frozen=True)
class ResourcePolicy:
    """The final resource's policy. ``call`` None: the resource type has none (only the
    identity side and, across accounts, nothing at all can grant access)."""

    call: Call | None
    account: str | None  # None: not in the ARN and not given (S3): the row is unknown
    policy: NamedPolicy | None = None
    unreadable: str | None = None
    kind: PolicyKind = PolicyKind.RESOURCE

    @property
    def what(self) -> str:
        return self.call.command if self.call else "no resource-based policy"


def resource_call(arn: str, account: str | None, region: str) -> Call | None:  # noqa: PLR0911 - one per type
    """The call that reads ``arn``'s resource policy (None: its type has no such policy)."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    service, where, rest = parts[2], parts[3] or region, parts[5]
    if service == "s3":
        bucket = rest.split("/", 1)[0]
        return Call(account, "get-bucket-policy", (bucket,), (bucket,))
    if service == "kms" and rest.startswith("key/"):
        return Call(account, "get-key-policy", (rest[4:],), (arn,), where)
    if service == "sqs":
        url = f"https://sqs.{where}.amazonaws.com/{account}/{rest}"
        return Call(account, "get-queue-attributes", (rest,), (url,), where)
    if service == "sns":
        return Call(account, "get-topic-attributes", (rest,), (arn,), where)
    if service == "events" and rest.startswith("event-bus/"):
        return Call(account, "describe-event-bus", (rest[10:],), (rest[10:],), where)
    if service == "lambda" and rest.startswith("function:"):
        function = rest.split(":")[1]
        return Call(account, "lambda.get-policy", (function,), (arn,), where)
    if service == "dynamodb" and rest.startswith("table/"):
        table = rest.split("/")[1]
        table_arn = arn.rsplit(":", 1)[0] + f":table/{table}"
        return Call(account, "dynamodb.get-resource-policy", (table,), (table_arn,), where)
    if service == "secretsmanager" and rest.startswith("secret:"):
        return Call(account, "secretsmanager.get-resource-policy", (rest[7:],), (arn,), where)
    return None


# Where each call's answer keeps the policy (a JSON string, absent when there is none).
_POLICY_AT = {
    "get-queue-attributes": ("Attributes", "Policy"),
    "get-topic-attributes": ("Attributes", "Policy"),
    "secretsmanager.get-resource-policy": ("ResourcePolicy",),
}


def load_resource_policy(
    source: Source, arn: str, account: str | None, region: str
) -> ResourcePolicy:
    if arn.startswith("arn:aws:iam::") and ":role/" in arn:  # AssumeRole as the final request
        role = load_principal(source, arn)
        reason = role.unreadable.get("trust")
        policy = (
            None
            if role.trust is None
            else NamedPolicy(f"trust policy of {role.name}", role.trust, role.address)
        )
        return ResourcePolicy(None, account, policy, reason, PolicyKind.TRUST)
    call = resource_call(arn, account, region)
    if call is None:
        return ResourcePolicy(None, account)
    if account is None:
        return ResourcePolicy(
            call,
            None,
            unreadable=f"the account owning {arn} is not in its ARN: pass --resource-account",
        )
    try:
        answer = source.fetch(call)
    except Unreadable as exc:
        return ResourcePolicy(call, account, unreadable=exc.reason)
    value: Any = answer.data
    for key in _POLICY_AT.get(call.command, ("Policy",)):
        value = value.get(key) if isinstance(value, Mapping) else None
    if value is None or value == "":
        return ResourcePolicy(call, account)
    name = f"{call.command.rsplit('.', 1)[-1].removeprefix('get-')} of {call.names[0]}"
    return ResourcePolicy(call, account, _policy(answer, value, PolicyKind.RESOURCE, name))
