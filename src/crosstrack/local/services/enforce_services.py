"""Deciding a request to IAM, STS, Lambda, KMS, Logs, CloudWatch, Scheduler, EventBridge,
SQS or SNS: its actions (operation_actions.py) on its resources (service_resources.py),
with the resource policies that govern them, AssumeRole's trust rules and iam:PassRole."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from crosstrack.local.auth import actions, denials, operation_actions, policies, tag_context
from crosstrack.local.auth.operations import Classified
from crosstrack.local.auth.principals import Caller
from crosstrack.local.moto import resources as moto_resources
from crosstrack.local.moto import state
from crosstrack.local.moto.state import Entity
from crosstrack.local.services.kms_resources import (
    KmsNeed,
    ciphertext_bytes,
    incorrect_key,
    kms_needs,
)
from crosstrack.local.services.service_resources import (
    PASS_ROLE,
    Param,
    getter,
    passed_roles,
    service_resources,
)
from crosstrack.local.transport.wire import WireRequest

if TYPE_CHECKING:
    from crosstrack.local.auth.enforcer import Enforcer

# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining
ROLE_CHAINING_LIMIT_SECONDS = 3600
MIN_SESSION_SECONDS = 900


def enforce(
    enforcer: Enforcer, wire: WireRequest, caller: Caller, region: str, found: Classified
) -> None:
    service = found.service
    signing = "monitoring" if service == "cloudwatch" else service
    get = getter(found.params)
    needed = operation_actions.actions_for(service, found.operation)
    if not needed:
        _no_permission(enforcer, wire, caller, region, f"{service}:{found.operation}")
        return
    if service == "kms":
        key_arn = functools.partial(_key_arn, caller.account, region=region)
        blob_key = _ciphertext_key(get, account=caller.account, region=region)
        needs = kms_needs(
            found.operation,
            needed,
            get,
            account=caller.account,
            region=region,
            key_arn=key_arn,
            ciphertext_key=blob_key,
        )
    else:
        resources = service_resources(
            service,
            found.operation,
            get,
            region=region,
            account=caller.account,
            role_arn=lambda name: _role_arn(caller.account, name),
        )
        needs = [KmsNeed(action, resource) for action in needed for resource in resources]
    for need in needs:
        _decide(
            enforcer,
            wire,
            caller,
            region=region,
            service=signing,
            action=need.action,
            resource=need.resource,
            get=get,
            extra=need.context,
        )
    if service == "kms":
        named = incorrect_key(found.operation, get, ciphertext_key=blob_key, key_arn=key_arn)
        if named is not None:
            _refuse_incorrect_key(enforcer, wire, caller, named=named, blob_key=str(blob_key))


def _ciphertext_key(get: Param, *, account: str, region: str) -> str | None:
    """The ARN of the key the request's ``CiphertextBlob`` names (Decrypt, ReEncrypt)."""
    blob = ciphertext_bytes(get("CiphertextBlob"))
    key_id = moto_resources.ciphertext_key_id(blob) if blob is not None else None
    key = moto_resources.ciphertext_key(key_id, account=account, region=region) if key_id else None
    return None if key is None else key.arn


def _refuse_incorrect_key(
    enforcer: Enforcer, wire: WireRequest, caller: Caller, *, named: str, blob_key: str
) -> None:
    """KMS's answer to a KeyId/SourceKeyId that is not the ciphertext's key, given once
    the caller was found allowed on the ciphertext's key (so the refusal tells nothing
    about a blob the caller may not use)."""
    message = (
        f"The KMS key {named} cannot decrypt the ciphertext: it was encrypted under {blob_key}."
    )
    enforcer.decider.reject(
        request_id=wire.request_id,
        via=enforcer.via(wire),
        reason="the request names a key other than the ciphertext's",
        detail={"principal": caller.arn, "resource": blob_key, "detail": message},
    )
    raise denials.AwsErrorResponse("kms", 400, "IncorrectKeyException", message, wire.request_id)


def _no_permission(
    enforcer: Enforcer, wire: WireRequest, caller: Caller, region: str, action: str
) -> None:
    context = enforcer.base_context(wire, caller, region, caller.account)
    question = policies.question(
        caller,
        action,
        resource="*",
        resource_account=caller.account,
        context=context,
        resource_policy=None,
    )
    enforcer.decider.allow_without_check(
        question,
        explanation=f"{action} needs no permission",
        via=enforcer.via(wire),
        request_id=wire.request_id,
    )


def _decide(
    enforcer: Enforcer,
    wire: WireRequest,
    caller: Caller,
    *,
    region: str,
    service: str,
    action: str,
    resource: str,
    get: Param,
    extra: Mapping[str, str],
) -> None:
    if (action, resource) in wire.decided:
        return
    owner = (
        actions.resource_account(resource, caller.account) if resource != "*" else caller.account
    )
    context = enforcer.base_context(wire, caller, region, owner)
    context.update(tag_context.tag_context(action, resource, wire.body))
    context.update(extra)
    if action == "sts:AssumeRole":
        _assume_role(
            enforcer, wire, caller, region=region, role_arn=resource, get=get, context=context
        )
        wire.decided.add((action, resource))
        return
    resource_policy = policies.resource_policy(action, resource, caller.account, region)
    question = policies.question(
        caller,
        action,
        resource=resource,
        resource_account=owner,
        context=context,
        resource_policy=resource_policy,
    )
    enforcer.require(service, wire, caller, question)
    wire.decided.add((action, resource))
    if action in PASS_ROLE:
        _pass_role(enforcer, wire, caller, region, service=service, action=action)


def _assume_role(
    enforcer: Enforcer,
    wire: WireRequest,
    caller: Caller,
    *,
    region: str,
    role_arn: str,
    get: Param,
    context: dict[str, actions.ContextValue],
) -> None:
    """AssumeRole: the target role is looked up in its own account and its trust
    policy must allow the caller explicitly
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html)."""
    session_name = get("RoleSessionName")
    if session_name:
        context["sts:RoleSessionName"] = str(session_name)
    for param, key in (
        ("ExternalId", "sts:ExternalId"),
        ("SourceIdentity", "sts:SourceIdentity"),
    ):
        value = get(param)
        if value:
            context[key] = str(value)
    owner = actions.resource_account(role_arn, caller.account)
    context["aws:ResourceAccount"] = owner
    role = policies.role_by_arn(role_arn)
    if role is None:
        question = policies.question(
            caller,
            "sts:AssumeRole",
            resource=role_arn,
            resource_account=owner,
            context=context,
            resource_policy=None,
        )
        verdict = enforcer.decider.refuse_missing_role(
            question, via=enforcer.via(wire), request_id=wire.request_id
        )
        raise enforcer.deny("sts", wire, caller, question, verdict, explain=False)
    trust = policies.trust_policy(role)
    needed = ["sts:AssumeRole"]
    if _has_session_tags(wire.body):
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required
        needed.append("sts:TagSession")
    for action in needed:
        question = policies.question(
            caller,
            action,
            resource=role_arn,
            resource_account=owner,
            context=context,
            resource_policy=trust,
        )
        enforcer.require("sts", wire, caller, question, explain=False)
    _check_duration(enforcer, wire, caller, role, get)


def _check_duration(
    enforcer: Enforcer, wire: WireRequest, caller: Caller, role: Entity, get: Param
) -> None:
    raw = get("DurationSeconds")
    if raw is None:
        return
    duration = int(str(raw))
    if duration < MIN_SESSION_SECONDS:
        message = (
            f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed "
            f"to satisfy constraint: Member must have value greater than or equal to "
            f"{MIN_SESSION_SECONDS}"
        )
    elif caller.kind == "assumed-role" and duration > ROLE_CHAINING_LIMIT_SECONDS:
        message = (
            "The requested DurationSeconds exceeds the 1 hour session limit "
            "for roles assumed by role chaining."
        )
    elif duration > role.max_session_duration:
        message = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    else:
        return
    enforcer.decider.reject(
        request_id=wire.request_id,
        via=enforcer.via(wire),
        reason="invalid session duration",
        detail={"principal": caller.arn, "action": "sts:AssumeRole", "detail": message},
    )
    raise denials.validation_error("sts", message, wire.request_id)


def _pass_role(
    enforcer: Enforcer, wire: WireRequest, caller: Caller, region: str, *, service: str, action: str
) -> None:
    """Handing a role to a service needs iam:PassRole on it
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html)."""
    spec, to_service = PASS_ROLE[action]
    try:
        body = json.loads(wire.body or b"{}")
    except ValueError:
        return
    for role_arn in passed_roles(spec, body):
        owner = actions.resource_account(role_arn, caller.account)
        context = enforcer.base_context(wire, caller, region, owner)
        context["iam:PassedToService"] = to_service
        question = policies.question(
            caller,
            "iam:PassRole",
            resource=role_arn,
            resource_account=owner,
            context=context,
            resource_policy=None,
        )
        note = f"{action} passes the role to {to_service}"
        enforcer.require(service, wire, caller, question, note=note)


def _role_arn(account: str, name: str) -> str | None:
    role = state.role_by_name(account, name)
    return None if role is None else role.arn


def _key_arn(account: str, key_id: str, *, region: str) -> str | None:
    key = policies.kms_key(account, key_id, region)
    return None if key is None else str(key.arn)


def _has_session_tags(body: bytes) -> bool:
    return any(
        name.startswith("Tags.member.") for name, _ in parse_qsl(body.decode("utf-8", "replace"))
    )
