"""``crosstrack doctor chain``: any chain of roles, then one request, checked hop by hop.

``principal --via R1 --via R2 ... --action X --resource Y`` means: the principal assumes R1,
R1's session assumes R2, ..., and the last session calls X on Y. Rows (link = hop number; the
final request's link is the number after the last hop):

* ``hopN.assume``   the caller's identity side (policies, boundary) allows sts:AssumeRole on RN
                    (not shown when the caller is an AWS service: services need no policy);
* ``hopN.trust``    RN's trust policy allows the caller, with the ExternalId and context given;
* ``hopN.duration`` the session asked for fits RN's MaxSessionDuration and, when the caller
                    is itself a role's session, role chaining's one-hour cap;
* ``hopN.tags``     sts:TagSession, when session tags are given;
* ``final.identity`` / ``final.resource``: both sides of the final request, with the
                    cross-account rule (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html):
                    across accounts each side must allow; within one, either may.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from crosstrack.doctor.calls import Source
from crosstrack.doctor.chain_state import (
    ResourcePolicy,
    arn_account,
    load_principal,
    load_resource_policy,
)
from crosstrack.doctor.checks import ROLE_CHAIN_MAX
from crosstrack.doctor.evaluation import IDENTITY_SIDE, RESOURCE_SIDE, Asked, SideResult
from crosstrack.doctor.model import DoctorInputError, NamedPolicy, RoleState, Row, Verdict
from crosstrack.doctor.rows import identity_needs, side_row, trust_policy, unknown_row
from crosstrack.iam import PolicyKind

_ROLE = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)$")
_USER = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):user/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)$")
_SESSION = re.compile(r"^arn:aws[\w-]*:sts::(\d{12}):assumed-role/([\w+=,.@-]+)/([\w+=,.@-]+)$")
_SERVICE = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$")
_ACTION = re.compile(r"^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$")


@dataclass(frozen=True)
class ChainRequest:
    """What the user asked (the flags of ``doctor chain``)."""

    principal: str
    via: tuple[str, ...] = ()
    action: str | None = None
    resource: str | None = None
    resource_account: str | None = None
    external_ids: Mapping[str, str] = field(default_factory=dict)  # role ARN/name or "*"
    context: Mapping[str, str] = field(default_factory=dict)
    session_name: str = "crosstrack-doctor"
    duration: int = 3600
    tags: Mapping[str, str] = field(default_factory=dict)
    region: str = "us-east-1"

    def validate(self) -> None:
        if not any(p.match(self.principal) for p in (_ROLE, _USER, _SESSION, _SERVICE)):
            raise DoctorInputError(
                f"--principal {self.principal!r}: give a role, user or assumed-role session "
                "ARN, or a service principal (lambda.amazonaws.com)"
            )
        for role in self.via:
            if not _ROLE.match(role):
                raise DoctorInputError(
                    f"--via {role!r}: not a role ARN (arn:aws:iam::ID:role/NAME)"
                )
        if (self.action is None) != (self.resource is None):
            raise DoctorInputError("give --action and --resource together")
        if self.action is None and not self.via:
            raise DoctorInputError(
                "nothing to check: give --via ROLE_ARN and/or --action/--resource"
            )
        if self.action is not None and not _ACTION.match(self.action):
            raise DoctorInputError(f"--action {self.action!r}: expected service:Action")
        if not 900 <= self.duration <= 43200:
            raise DoctorInputError("--duration: between 900 and 43200 seconds (AssumeRole's range)")

    def external_id(self, role: RoleState) -> str | None:
        for key in (role.arn, role.name, "*"):
            if key in self.external_ids:
                return self.external_ids[key]
        return None


@dataclass
class Caller:
    """Who makes the next request: its request ARN, the role/user behind it, and whether its
    credentials are a role's (so assuming another role is role chaining)."""

    arn: str
    principal_arn: str | None
    state: RoleState | None  # None: an AWS service principal
    chained: bool

    @property
    def identity(self) -> list[NamedPolicy]:
        return [] if self.state is None else self.state.identity_policies

    @property
    def boundary(self) -> NamedPolicy | None:
        return None if self.state is None else self.state.boundary


def _session(role: RoleState, name: str) -> str:
    return f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{name}"


def first_caller(request: ChainRequest, source: Source) -> Caller:
    p = request.principal
    if _SERVICE.match(p):
        return Caller(p, None, None, chained=False)
    if m := _USER.match(p):
        return Caller(p, p, load_principal(source, p, user=True), chained=False)
    if m := _SESSION.match(p):
        role = load_principal(source, f"arn:aws:iam::{m[1]}:role/{m[2]}")
        return Caller(p, role.arn, role, chained=True)
    role = load_principal(source, p)
    # A role's credentials (an instance profile's, a function's...) are a session of it.
    return Caller(_session(role, request.session_name), role.arn, role, chained=True)


def _context(
    request: ChainRequest, extra: Mapping[str, str | tuple[str, ...]] = {}
) -> dict[str, str | tuple[str, ...]]:
    return {"aws:SecureTransport": "true", **extra, **request.context}


def _trust_hints(target: RoleState, sent_external_id: bool) -> Callable[[SideResult], str]:
    def hints(result: SideResult) -> str:
        if result.ok:
            return ""
        trust = json.dumps(target.trust or {})
        notes = []
        ids = sorted(set(re.findall(r'"(AROA[A-Z0-9]{12,})"', trust)))
        if ids:
            notes.append(f"; the trust policy names the bare unique id {', '.join(ids)}: the "
                         "role it trusted was deleted, so it trusts nobody now")  # fmt: skip
        if "sts:externalid" in trust.lower() and not sent_external_id:
            notes.append("; the trust policy requires an sts:ExternalId: pass --external-id")
        return "".join(notes)

    return hints


def hop_rows(n: int, caller: Caller, target: RoleState, request: ChainRequest) -> list[Row]:
    external_id = request.external_id(target)
    extra: dict[str, str | tuple[str, ...]] = {"sts:RoleSessionName": request.session_name}
    if external_id:
        extra["sts:ExternalId"] = external_id
    if request.tags:
        extra.update({f"aws:RequestTag/{k}": v for k, v in request.tags.items()})
        extra["aws:TagKeys"] = tuple(request.tags)

    def asked(action: str) -> Asked:
        return Asked(caller.arn, action, target.arn, _context(request, extra),
                     principal_arn=caller.principal_arn, identity=caller.identity,
                     boundary=caller.boundary, resource_policy=trust_policy(target),
                     resource_kind=PolicyKind.TRUST)  # fmt: skip

    rows: list[Row] = []
    if caller.state is not None:
        rows.append(side_row(
            f"hop{n}.assume", n, asked("sts:AssumeRole"), IDENTITY_SIDE,
            f"the policies of {caller.state.name}",
            f"allow sts:AssumeRole on {target.arn} in an identity policy of {caller.state.arn} "
            "(and in its permissions boundary, if it has one)",
            needs=identity_needs(caller.state),
        ))  # fmt: skip
    rows.append(side_row(
        f"hop{n}.trust", n, asked("sts:AssumeRole"), RESOURCE_SIDE,
        f"the trust policy of {target.name}",
        f"{target.arn}'s trust policy: allow sts:AssumeRole to {caller.principal_arn or caller.arn}"
        " (with the conditions it can meet)", needs=((target.unreadable, "trust"),),
        extra=_trust_hints(target, external_id is not None),
    ))  # fmt: skip
    rows.append(_duration_row(n, caller, target, request))
    if request.tags:
        rows.append(side_row(
            f"hop{n}.tags", n, asked("sts:TagSession"), IDENTITY_SIDE | RESOURCE_SIDE,
            f"the trust policy of {target.name} and the caller's policies",
            f"allow sts:TagSession in {target.arn}'s trust policy (and the caller's policies)",
            needs=((target.unreadable, "trust"),),
        ))  # fmt: skip
    return rows


def _duration_row(n: int, caller: Caller, target: RoleState, request: ChainRequest) -> Row:
    id_ = f"hop{n}.duration"
    if "duration" in target.unreadable:
        return unknown_row(
            id_, n, caller.arn, "sts:AssumeRole", target.arn, target.unreadable["duration"]
        )
    limit = target.max_session_seconds or ROLE_CHAIN_MAX
    why = f"{target.name}'s MaxSessionDuration is {limit} s"
    # Role chaining caps a session at one hour whatever the role allows
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining).
    if caller.chained and limit > ROLE_CHAIN_MAX:
        limit, why = ROLE_CHAIN_MAX, f"role chaining caps sessions at {ROLE_CHAIN_MAX} s"
    ok = request.duration <= limit
    return Row(
        id_, n, Verdict.PASS if ok else Verdict.FAIL, caller.arn, "sts:AssumeRole", target.arn,
        None, f"DurationSeconds={request.duration}; {why}",
        "" if ok else f"ask for at most {limit} s (--duration)",
    )  # fmt: skip


def final_rows(n: int, caller: Caller, request: ChainRequest, source: Source) -> list[Row]:
    assert request.action is not None
    assert request.resource is not None
    action, resource = request.action, request.resource
    account = request.resource_account or arn_account(resource)
    rp = load_resource_policy(source, resource, account, request.region)
    asked = Asked(caller.arn, action, resource, _context(request),
                  principal_arn=caller.principal_arn, resource_account=account,
                  identity=caller.identity, boundary=caller.boundary,
                  resource_policy=rp.policy, resource_kind=rp.kind)  # fmt: skip
    rows: list[Row] = []
    if caller.state is not None:
        rows.append(side_row(
            "final.identity", n, asked, IDENTITY_SIDE, f"the policies of {caller.state.name}",
            f"allow {action} on {resource} in an identity policy of {caller.state.arn} (and "
            "in its permissions boundary, if it has one)",
            needs=(*identity_needs(caller.state), *(
                [({"resource": rp.unreadable}, "resource")] if rp.unreadable else [])),
        ))  # fmt: skip
    rows.append(_resource_row(n, caller, asked, rp))
    return rows


def _resource_row(n: int, caller: Caller, asked: Asked, rp: ResourcePolicy) -> Row:
    caller_account = arn_account(caller.principal_arn or caller.arn)
    if rp.unreadable is not None:
        return unknown_row(
            "final.resource", n, asked.principal, asked.action, asked.resource, rp.unreadable
        )
    if rp.call is None and rp.kind is not PolicyKind.TRUST:
        cross = (
            caller_account is not None and rp.account is not None and caller_account != rp.account
        )
        return Row(
            "final.resource", n, Verdict.FAIL if cross else Verdict.PASS, asked.principal,
            asked.action, asked.resource, None,
            "this resource type has no resource-based policy"
            + (f": nothing in account {rp.account} can grant account {caller_account} access"
               if cross else ": the identity side alone decides (same account)"),
            f"add --via a role in account {rp.account} that may {asked.action}" if cross else "",
        )  # fmt: skip
    where = (
        f"the {rp.what} answer for {asked.resource}" if rp.policy is None else str(rp.policy.name)
    )
    return side_row(
        "final.resource",
        n,
        asked,
        RESOURCE_SIDE,
        where,
        f"{rp.call.cli if rp.call else 'the role trust policy'}: allow {asked.action} to "
        f"{caller.principal_arn or caller.arn}"
        + (
            " (across accounts the resource policy must allow it)"
            if caller_account != rp.account
            else ""
        )
        + ", and no Deny may catch the request",
    )


def diagnose_chain(request: ChainRequest, source: Source) -> list[Row]:
    """Every hop's rows, then the final request's. Unreadable parts are ``unknown`` rows."""
    request.validate()
    caller = first_caller(request, source)
    rows: list[Row] = []
    for n, arn in enumerate(request.via, 1):
        target = load_principal(source, arn)
        rows += hop_rows(n, caller, target, request)
        caller = Caller(_session(target, request.session_name), target.arn, target, chained=True)
    if request.action is not None:
        rows += final_rows(len(request.via) + 1, caller, request, source)
    return rows
