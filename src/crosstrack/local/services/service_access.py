"""The emulator's own components acting as AWS services.

In AWS, Lambda assumes a function's execution role as ``lambda.amazonaws.com`` and EventBridge
Scheduler invokes targets as ``scheduler.amazonaws.com``, passing ``aws:SourceAccount`` and
``aws:SourceArn`` so that trust and resource policies can pin the calling resource
(https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). The Lambda runner
and the scheduler of the demo do the same through these functions, so their requests meet
the same engine and land in the same audit log as any client's.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crosstrack.iam import Decision
from crosstrack.local.accounts import PARTITION, REGION, SERVICE_PRINCIPALS
from crosstrack.local.auth import actions, policies
from crosstrack.local.auth.decisions import Decider, Question
from crosstrack.local.auth.denials import access_denied_message
from crosstrack.local.auth.principals import Caller
from crosstrack.local.errors import LocalAWSError
from crosstrack.local.moto import state

VIA = "service"


class AccessDeniedError(LocalAWSError):
    """A service principal was refused; carries AWS's message and the engine's verdict."""

    def __init__(self, message: str, verdict: Decision) -> None:
        super().__init__(message)
        self.verdict = verdict


@dataclass(frozen=True)
class ServiceCredentials:
    """Temporary credentials of a role session a service obtained."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: dt.datetime
    arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<session>


def _service_context(
    decider: Decider, service: str, source_account: str | None, source_arn: str | None
) -> dict[str, actions.ContextValue]:
    context: dict[str, actions.ContextValue] = {
        "aws:PrincipalIsAWSService": "true",
        "aws:PrincipalServiceName": service,
        **actions.request_context(decider.clock(), secure=True, region=REGION),
    }
    if source_account:
        context["aws:SourceAccount"] = source_account
    if source_arn:
        context["aws:SourceArn"] = source_arn
    return context


def _check_service(service: str) -> None:
    if service not in SERVICE_PRINCIPALS:
        raise ValueError(
            f"{service!r} is not a service the local AWS acts as; "
            f"use one of {', '.join(sorted(SERVICE_PRINCIPALS))}"
        )


def _session_name(source_arn: str) -> str:
    # Lambda names the execution-role session after the function; keep STS's charset and length.
    tail = source_arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1] or "session"
    return re.sub(r"[^\w+=,.@-]", "-", tail)[:64]


def _identity(arn: str) -> Caller | None:
    """A synthetic caller for an IAM user, role or role-session ARN (policies only)."""
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return None
    account, resource = parts[4], parts[5]
    if parts[2] == "sts" and resource.startswith("assumed-role/"):
        _, role_name, session = resource.split("/", 2)
        role = state.role_by_name(account, role_name)
        role_arn = (
            role.arn if role is not None else f"arn:{PARTITION}:iam::{account}:role/{role_name}"
        )
        return Caller("assumed-role", account, arn, role_arn, role_name, session, "", "", "")
    if parts[2] == "iam" and resource.startswith("role/"):
        name = resource.rsplit("/", 1)[-1]
        return Caller("assumed-role", account, arn, arn, name, None, "", "", "")
    if parts[2] == "iam" and resource.startswith("user/"):
        name = resource.rsplit("/", 1)[-1]
        return Caller("user", account, arn, arn, name, None, "", "", "")
    return None


@dataclass(frozen=True)
class ServiceAccess:
    """What the emulator's own components do as AWS services, decided by ``decider``.

    :attr:`LocalAWS.services <crosstrack.local.LocalAWS.services>` hands out the one of the
    running local AWS.
    """

    decider: Decider

    def assume_role(
        self,
        service: str,
        role_arn: str,
        *,
        source_account: str,
        source_arn: str,
        session_name: str | None = None,
        duration_seconds: int = 3600,
    ) -> ServiceCredentials:
        """Act as ``service`` (e.g. ``lambda.amazonaws.com``) and assume ``role_arn``.

        The role's trust policy must allow it explicitly, with ``aws:SourceAccount`` and
        ``aws:SourceArn`` set; raises :class:`AccessDeniedError` when refused. Audited.
        """
        _check_service(service)
        name = session_name or _session_name(source_arn)
        owner = actions.resource_account(role_arn, source_account)
        context = _service_context(self.decider, service, source_account, source_arn)
        context["sts:RoleSessionName"] = name
        context["aws:ResourceAccount"] = owner
        role = policies.role_by_arn(role_arn)
        question = Question(
            principal=service,
            action="sts:AssumeRole",
            resource=role_arn,
            resource_account=owner,
            context=context,
            resource_policy=policies.trust_policy(role) if role is not None else None,
        )
        request_id = str(uuid.uuid4())
        if role is None:
            verdict = self.decider.refuse_missing_role(question, via=VIA, request_id=request_id)
        else:
            verdict = self.decider.ask(question, via=VIA, request_id=request_id)
        if not verdict.allowed:
            message = access_denied_message(
                service,
                "sts:AssumeRole",
                role_arn,
                decision=verdict.decision,
                layer=None,
                explain=False,
            )
            raise AccessDeniedError(message, verdict)
        session = state.assume_role(owner, role_arn, name, duration_seconds)
        return ServiceCredentials(
            access_key_id=session.access_key_id,
            secret_access_key=session.secret_access_key,
            session_token=session.session_token,
            expiration=session.expiration,
            arn=session.arn,
        )

    def authorize(
        self,
        principal: str,
        action: str,
        resource: str,
        *,
        context: Mapping[str, actions.ContextValue] | None = None,
        source_account: str | None = None,
        source_arn: str | None = None,
    ) -> Decision:
        """Ask the engine whether ``principal`` may do ``action`` on ``resource``, and audit
        it, e.g. ``authorize("scheduler.amazonaws.com", "lambda:InvokeFunction",
        function_arn, source_account=A, source_arn=schedule_arn)``. Returns the verdict;
        never raises for a denial.

        ``principal`` is a service principal (``scheduler.amazonaws.com``) or an IAM user, role
        or session ARN. The governing resource policy is looked up by the action's service
        (a function's policy for ``lambda:*``, the trust policy for ``sts:AssumeRole``, …).
        """
        owner = actions.resource_account(resource, source_account or "")
        merged: dict[str, Any]
        identity: Caller | None = None
        if principal in SERVICE_PRINCIPALS or principal.endswith(".amazonaws.com"):
            merged = _service_context(self.decider, principal, source_account, source_arn)
        else:
            identity = _identity(principal)
            if identity is None:
                raise ValueError(f"{principal!r} is neither a service principal nor an IAM ARN")
            merged = _service_context(self.decider, "", source_account, source_arn)
            for key in ("aws:PrincipalIsAWSService", "aws:PrincipalServiceName"):
                merged.pop(key)
            merged.update(
                {
                    "aws:PrincipalArn": identity.principal_arn,
                    "aws:PrincipalAccount": identity.account,
                }
            )
            owner = owner or identity.account
        if owner:
            merged["aws:ResourceAccount"] = owner
        merged.update(context or {})
        resource_account = owner or None
        policy = policies.resource_policy(action, resource, owner)
        if identity is None:  # a service principal has no policies of its own
            question = Question(
                principal, action, resource, resource_account, merged, resource_policy=policy
            )
        else:
            question = policies.question(
                identity,
                action,
                resource=resource,
                resource_account=resource_account,
                context=merged,
                resource_policy=policy,
            )
        return self.decider.ask(question, via=VIA, request_id=str(uuid.uuid4()))
