"""The decision: each policy layer analysed into matching allows and denies, then combined.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html

Order: an explicit Deny in any applicable policy wins; then every SCP level (the caller's
account) and every RCP level (the resource's account) must hold an Allow; then the resource
policy and the caller's identity side (identity policies ∩ permissions boundary ∩ session
policy). Within one account either side suffices, except that trust and KMS key policies must
allow explicitly, and *how* the resource policy named the caller decides which implicit denies
still count (evaluation-logic page, "Resource-based policies" table):

* session ARN: nothing else needed; IAM user ARN: not limited by identity policy or boundary;
* role ARN (and ``"*"``): not limited by the identity policy, but by boundary and session policy;
* account (``"1111..."`` / ``:root``): delegates to the account: the identity side must allow.

Across accounts both the resource policy and the identity side must allow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from crosstrack.iam.conditions import Context
from crosstrack.iam.errors import PolicyError
from crosstrack.iam.model import (
    Decision,
    Effect,
    Layer,
    MatchedStatement,
    Outcome,
    Policy,
    Reason,
    Request,
    Statement,
    StatementTrace,
    Verdict,
)
from crosstrack.iam.principals import Caller, Grant, PrincipalKind, parse_caller
from crosstrack.iam.services import ServiceRules, rules_for
from crosstrack.iam.variables import Template, UnresolvedVariable
from crosstrack.iam.wildcards import compile_arn

_ACTION = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9_.-]+$")
_ACCOUNT = re.compile(r"^\d{12}$")


# Enum members the hot path names, as module constants: on Python 3.11 reading a member off
# its class (``Layer.SCP``) goes through the enum machinery and costs ~0.1 us, and one
# evaluation names members a few dozen times.
_DENY = Effect.DENY
_GRANT_ACCOUNT = Grant.ACCOUNT
_GRANT_USER = Grant.USER
_IDENTITY = Layer.IDENTITY
_PERMISSION_BOUNDARY = Layer.PERMISSION_BOUNDARY
_RCP = Layer.RCP
_RESOURCE_POLICY = Layer.RESOURCE_POLICY
_SCP = Layer.SCP
_SESSION_POLICY = Layer.SESSION_POLICY
_ROOT = PrincipalKind.ROOT
_SERVICE = PrincipalKind.SERVICE
_REASON_ALLOWED_BY_IDENTITY = Reason.ALLOWED_BY_IDENTITY
_REASON_ALLOWED_BY_RESOURCE_POLICY = Reason.ALLOWED_BY_RESOURCE_POLICY
_REASON_BOUNDARY_LIMITS_ROLE_GRANT = Reason.BOUNDARY_LIMITS_ROLE_GRANT
_REASON_CROSS_ACCOUNT = Reason.CROSS_ACCOUNT
_REASON_EXPLICIT_DENY = Reason.EXPLICIT_DENY
_REASON_NO_ALLOW = Reason.NO_ALLOW
_REASON_RESOURCE_POLICY_REQUIRED = Reason.RESOURCE_POLICY_REQUIRED
_ALLOWED = Verdict.ALLOWED
_EXPLICIT_DENY = Verdict.EXPLICIT_DENY
_IMPLICIT_DENY = Verdict.IMPLICIT_DENY


@dataclass(slots=True)
class _LayerResult:
    layer: Layer
    grant: Grant | None = None  # best grant among matching Allow statements (resource policy)
    allows: bool = False
    denies: bool = False
    matched: list[MatchedStatement] = field(default_factory=list)


@dataclass(slots=True)
class _Subject:
    """The request, normalised once: what every statement is checked against."""

    action: str
    action_key: str  # lower-cased: the key of each policy's per-action statement index
    resource: str
    caller: Caller
    context: Context
    traces: list[StatementTrace] | None
    # per resource template (by identity: templates are interned), whether its resolved
    # pattern matches the resource, or None when a variable is missing from the context
    template_hits: dict[int, bool | None]


@dataclass(slots=True)
class _Layers:
    scp: list[_LayerResult]
    rcp: list[_LayerResult]
    resource: _LayerResult
    identity: _LayerResult
    boundary: _LayerResult | None  # None when the layer is absent
    session: _LayerResult | None

    def in_order(self) -> list[_LayerResult]:
        present = [self.boundary, self.session]
        return [*self.scp, *self.rcp, self.resource, self.identity, *filter(None, present)]


class _Outcome(NamedTuple):  # a tuple: built once per evaluation, cheaper than a dataclass
    verdict: Verdict
    decided_by: Layer | None
    missing: tuple[Layer, ...]
    reasons: tuple[Reason, ...]


def evaluate(
    request: Request,
    *,
    identity_policies: Sequence[Policy] = (),
    permission_boundary: Policy | None = None,
    session_policy: Policy | None = None,
    resource_policy: Policy | None = None,
    scps: Sequence[Sequence[Policy]] = (),
    rcps: Sequence[Sequence[Policy]] = (),
    trace: bool = False,
) -> Decision:
    """Decide ``request`` against compiled policies (from :func:`parse_policy`).

    ``scps``/``rcps`` hold one sequence of policies per level, organization root first; an
    empty outer sequence means the account is not governed by them. With ``trace=True`` the
    decision also records every statement's outcome (for ``--explain``).
    Raises :class:`PolicyError` for a request it cannot evaluate (bad principal, action...).
    """
    caller = parse_caller(request.principal, request.principal_arn)
    action = request.action
    if not isinstance(action, str):
        raise PolicyError("$.request.action", f"expected service:Action, not {action!r}")
    action_key, rules, requires_resource = _action_rules(action)
    resource = request.resource
    if not isinstance(resource, str) or not resource:
        raise PolicyError("$.request.resource", "must be a non-empty string (an ARN or *)")
    if requires_resource:
        requires_resource = rules.requires_resource_allow_on(resource)
    resource_account = _resource_account(request)
    _check_layers(caller, identity_policies, permission_boundary, session_policy)
    subject = _Subject(
        action=action,
        action_key=action_key,
        resource=resource,
        caller=caller,
        context=_context(request, resource_account),
        traces=[] if trace else None,
        template_hits={},
    )

    layers = _Layers(
        # SCPs limit the principals of member accounts, never service principals.
        scp=[]
        if caller.kind is _SERVICE
        else [_run(_SCP, level, f"scps[{n}]", subject) for n, level in enumerate(scps)],
        rcp=[_run(_RCP, level, f"rcps[{n}]", subject) for n, level in enumerate(rcps)],
        resource=_run(_RESOURCE_POLICY, _one(resource_policy), "resource_policy", subject),
        identity=_run(_IDENTITY, identity_policies, "identity_policies", subject),
        boundary=None
        if permission_boundary is None
        else _run(_PERMISSION_BOUNDARY, (permission_boundary,), "permission_boundary", subject),
        session=None
        if session_policy is None
        else _run(_SESSION_POLICY, (session_policy,), "session_policy", subject),
    )
    in_order = layers.in_order()
    outcome = _combine(layers, in_order, caller, resource_account, requires_resource)
    matched: list[MatchedStatement] = []
    for r in in_order:
        matched += r.matched
    return Decision(
        decision=outcome.verdict,
        decided_by=outcome.decided_by,
        matched=tuple(matched),
        missing_allow=outcome.missing,
        reasons=outcome.reasons,
        principal=caller.display,
        caller=caller.arn,
        action=action,
        resource=resource,
        resource_account=resource_account,
        resource_policy_label=rules.describe(resource),
        trust=rules.prefix == "sts",
        scp_levels_failing=_failing(layers.scp) if layers.scp else None,
        rcp_levels_failing=_failing(layers.rcp) if layers.rcp else None,
        trace=tuple(subject.traces) if subject.traces is not None else (),
    )


def _failing(levels: list[_LayerResult]) -> tuple[int, ...]:
    return tuple(n for n, level in enumerate(levels) if not level.allows)


def _run(layer: Layer, policies: Sequence[Policy], prefix: str, subject: _Subject) -> _LayerResult:
    result = _LayerResult(layer)
    # layers of one policy label it by the prefix alone ("resource_policy"); identity tests
    # rather than a set: hashing an Enum member runs Python code
    single = layer is _RESOURCE_POLICY or layer is _PERMISSION_BOUNDARY or layer is _SESSION_POLICY
    scan = _scan if subject.traces is None else _scan_traced
    for i, policy in enumerate(policies):
        label = policy.name or (prefix if single else f"{prefix}[{i}]")
        scan(policy, label, result, subject)
    return result


def _one(policy: Policy | None) -> list[Policy]:
    return [policy] if policy is not None else []


def _combine(
    layers: _Layers,
    in_order: list[_LayerResult],
    caller: Caller,
    resource_account: str | None,
    requires_resource: bool,
) -> _Outcome:
    # 1. An explicit deny in any applicable policy wins.
    for r in in_order:
        if r.denies:
            return _Outcome(_EXPLICIT_DENY, r.layer, (), (_REASON_EXPLICIT_DENY,))
    missing: list[Layer] = []
    reasons: list[Reason] = []
    # 2. Every SCP level (caller's account) and RCP level (resource's account) must allow.
    if any(not level.allows for level in layers.scp):
        missing.append(_SCP)
    if any(not level.allows for level in layers.rcp):
        missing.append(_RCP)
    # 3. The resource policy and the caller's identity side.
    if caller.kind is _SERVICE:
        # A service principal has no identity side: only the resource policy can allow it.
        side_missing = [] if layers.resource.grant is not None else [_RESOURCE_POLICY]
        granted_by = _RESOURCE_POLICY
    else:
        side_missing, granted_by = _resource_and_identity(
            layers, caller, resource_account, requires_resource, reasons
        )
    missing.extend(side_missing)
    if missing:
        ordered = tuple(layer for layer in _ORDER if layer in missing)
        return _Outcome(_IMPLICIT_DENY, ordered[0], ordered, (*reasons, _REASON_NO_ALLOW))
    final = (
        _REASON_ALLOWED_BY_RESOURCE_POLICY
        if granted_by is _RESOURCE_POLICY
        else _REASON_ALLOWED_BY_IDENTITY
    )
    return _Outcome(_ALLOWED, granted_by, (), (*reasons, final))


def _resource_and_identity(
    layers: _Layers,
    caller: Caller,
    resource_account: str | None,
    requires_resource: bool,
    reasons: list[Reason],
) -> tuple[list[Layer], Layer]:
    """The layers still lacking an Allow on the best path, and the layer that grants."""
    grant = layers.resource.grant
    identity_missing: list[Layer] = []
    if caller.kind is not _ROOT and not layers.identity.allows:
        identity_missing.append(_IDENTITY)  # the root user has full access to its account
    for limit in (layers.boundary, layers.session):
        if limit is not None and not limit.allows:
            identity_missing.append(limit.layer)
    limits_missing: list[Layer] = [m for m in identity_missing if m is not _IDENTITY]
    resource_missing = [] if grant is not None else [_RESOURCE_POLICY]
    if requires_resource:
        reasons.append(_REASON_RESOURCE_POLICY_REQUIRED)
    if caller.account != resource_account:
        # Cross-account: the resource's account and the caller's account must both allow.
        reasons.append(_REASON_CROSS_ACCOUNT)
        return resource_missing + identity_missing, _IDENTITY
    if grant is None:
        return (resource_missing if requires_resource else []) + identity_missing, _IDENTITY
    if grant >= _GRANT_USER:
        # Granted to the session (or IAM user) itself: other implicit denies do not count.
        return [], _RESOURCE_POLICY
    if grant is not _GRANT_ACCOUNT:
        # Granted to the role ARN (or "*"): still limited by boundary and session policy.
        if limits_missing:
            reasons.append(_REASON_BOUNDARY_LIMITS_ROLE_GRANT)
        return limits_missing, _RESOURCE_POLICY
    # Granted to the account: delegated to the account's identity-based policies.
    return identity_missing, _IDENTITY


_ORDER = tuple(Layer)


def _scan(policy: Policy, label: str, result: _LayerResult, subject: _Subject) -> None:
    """Record the statements of ``policy`` that apply (the hot path: no trace)."""
    candidates = policy.by_action.get(subject.action_key)
    if candidates is None:
        candidates = policy.statements_for(subject.action)
    resource = subject.resource
    reported: tuple[MatchedStatement, ...] | None = None
    # Only statements whose action matches are looked at; each check below is a cheap exit,
    # in the order of _statement_outcome (which --explain uses and these must agree with).
    for st in candidates:
        if st.resources is not None:
            if st.resource_templates:
                if not _resource_matches(st, subject):
                    continue
            elif st.resource_matcher(resource) == st.not_resource:
                continue
        grant: Grant | None = None
        if st.principals is not None:
            grant = _principal_grant(st, subject.caller)
            if grant is None:
                continue
        if st.conditions and not _conditions_hold(st, subject.context):
            continue
        if reported is None:
            reported = policy.matched_statements(result.layer, label)
        _record(result, reported[st.index], grant)


def _scan_traced(policy: Policy, label: str, result: _LayerResult, subject: _Subject) -> None:
    """Like :func:`_scan`, recording every statement's outcome and why (for --explain)."""
    assert subject.traces is not None
    layer = result.layer
    reported = policy.matched_statements(layer, label)
    for st in policy.statements:
        outcome, detail, grant = _statement_outcome(st, subject)
        subject.traces.append(
            StatementTrace(layer, label, st.index, st.sid, st.effect, outcome, detail)
        )
        if outcome is Outcome.APPLIES:
            _record(result, reported[st.index], grant)


def _record(result: _LayerResult, matched: MatchedStatement, grant: Grant | None) -> None:
    result.matched.append(matched)
    if matched.effect is _DENY:
        result.denies = True
    else:
        result.allows = True
        if grant is not None and (result.grant is None or grant > result.grant):
            result.grant = grant


_Verdict3 = tuple[Outcome, str | None, Grant | None]


def _statement_outcome(st: Statement, subject: _Subject) -> _Verdict3:
    """Whether ``st`` applies, and if not the first check that failed (with its detail)."""
    if st.actions(subject.action) == st.not_action:
        return Outcome.ACTION_NOT_MATCHED, None, None
    if st.resources is not None:
        miss = _resource_miss(st, subject)
        if miss is not None:
            return miss
    grant: Grant | None = None
    if st.principals is not None:
        grant = _principal_grant(st, subject.caller)
        if grant is None:
            return Outcome.PRINCIPAL_NOT_MATCHED, None, None
    for entry in st.conditions:
        try:
            holds = entry.test(subject.context)
        except UnresolvedVariable as exc:
            return Outcome.VARIABLE_UNRESOLVED, exc.name, None
        if not holds:
            return Outcome.CONDITION_FALSE, f"{entry.operator} {entry.key}", None
    return Outcome.APPLIES, None, grant


def _resource_miss(st: Statement, subject: _Subject) -> _Verdict3 | None:
    """Why the Resource/NotResource element stops ``st`` from applying, or None."""
    try:
        resolved = _resolve_resources(st, subject.context)
    except UnresolvedVariable as exc:
        return Outcome.VARIABLE_UNRESOLVED, exc.name, None
    if _resource_hit(st, resolved, subject.resource) == st.not_resource:
        return Outcome.RESOURCE_NOT_MATCHED, None, None
    return None


def _resource_matches(st: Statement, subject: _Subject) -> bool:
    """Whether the Resource/NotResource element lets ``st`` apply (False if unresolvable).

    Same answer as _resource_miss, remembering each template's result for the request.
    """
    hits = subject.template_hits
    hit = st.resource_matcher(subject.resource)
    for template in st.resource_templates:
        key = id(template)
        if key in hits:
            known = hits[key]
        else:
            known = hits[key] = _template_hit(template, subject)
        if known is None:
            return False  # a variable missing from the context: the statement does not apply
        hit = hit or known
    return hit != st.not_resource


def _template_hit(template: Template, subject: _Subject) -> bool | None:
    try:
        pattern = template.resolve(subject.context)
    except UnresolvedVariable:
        return None
    # compile_arn caches by pattern text, so each resolved pattern is compiled once.
    return compile_arn(pattern)(subject.resource)


def _resolve_resources(st: Statement, context: Context) -> list[str]:
    """The patterns of ``st``'s variable entries for this request; may raise UnresolvedVariable.

    Every variable is resolved before any pattern is matched: one unresolvable variable makes
    the whole statement not apply, even when another entry would match.
    """
    return [template.resolve(context) for template in st.resource_templates]


def _resource_hit(st: Statement, resolved: list[str], resource: str) -> bool:
    """Whether ``resource`` matches any entry (the fixed ones, then the resolved ones)."""
    return st.resource_matcher(resource) or any(
        compile_arn(pattern)(resource) for pattern in resolved
    )


def _principal_grant(st: Statement, caller: Caller) -> Grant | None:
    """How the Principal element names ``caller`` (NotPrincipal: ANYONE unless exempt)."""
    assert st.principals is not None
    if st.not_principal:
        return None if st.principals.excludes(caller) else Grant.ANYONE
    return st.principals.grant_for(caller)


def _conditions_hold(st: Statement, context: Context) -> bool:
    try:
        for entry in st.conditions:
            if not entry.test(context):
                return False
    except UnresolvedVariable:
        return False  # a variable missing from the context: the statement does not apply
    return True


@lru_cache(maxsize=1024)
def _action_rules(action: str) -> tuple[str, ServiceRules, bool]:
    """(lower-cased action, its service's rules, whether the resource policy must allow).

    Cached by action name: a small vocabulary, and validating it needs a regex.
    """
    if not _ACTION.match(action):
        raise PolicyError("$.request.action", f"expected service:Action, not {action!r}")
    rules = rules_for(action)
    return action.lower(), rules, rules.requires_resource_allow(action)


def _resource_account(request: Request) -> str | None:
    given = request.resource_account
    if given is not None and (not isinstance(given, str) or not _is_account(given)):
        raise PolicyError(
            "$.request.resource_account", f"expected a 12-digit account id, not {given!r}"
        )
    parts = request.resource.split(":", 5)
    in_arn = parts[4] if len(parts) == 6 and _is_account(parts[4]) else None
    if given and in_arn and given != in_arn:
        raise PolicyError(
            "$.request.resource_account",
            f"{given} contradicts the account {in_arn} in the resource ARN",
        )
    account = given or in_arn
    if account is None:
        raise PolicyError(
            "$.request.resource_account",
            f"required: the resource {request.resource!r} carries no account "
            "(S3 bucket ARNs never do)",
        )
    return account


@lru_cache(maxsize=1024)
def _is_account(text: str) -> bool:
    """A 12-digit account id (cached: a handful of accounts, and the test is a regex)."""
    return _ACCOUNT.match(text) is not None


def _check_layers(
    caller: Caller,
    identity_policies: Sequence[Policy],
    permission_boundary: Policy | None,
    session_policy: Policy | None,
) -> None:
    if caller.kind in (_SERVICE, _ROOT):
        what = "a service principal" if caller.kind is _SERVICE else "the root user"
        for given, path in (
            (bool(identity_policies), "$.identity_policies"),
            (permission_boundary is not None, "$.permission_boundary"),
            (session_policy is not None, "$.session_policy"),
        ):
            if given:
                raise PolicyError(path, f"{what} has no {path[2:].replace('_', ' ')}")


def _context(request: Request, resource_account: str | None) -> dict[str, tuple[str, ...]]:
    """The request context with lower-cased keys and tuple values, derived keys included."""
    given: object = request.context
    if type(given) is not dict and not isinstance(given, Mapping):  # (an ABC check is slow)
        raise PolicyError("$.request.context", "must be an object of key -> string or list")
    # a copy: the derived keys are cached and shared by every request of this caller
    context = _derived(request.principal, request.principal_arn, resource_account).copy()
    for key, value in given.items():
        if not isinstance(key, str) or not key:
            raise PolicyError("$.request.context", f"keys must be non-empty strings, not {key!r}")
        if isinstance(value, str):
            context[key.lower()] = (value,)  # given values win over derived ones
            continue
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            values: tuple[str, ...] = tuple(value)
        elif isinstance(value, bool):
            values = ("true" if value else "false",)
        else:
            raise PolicyError(
                f"$.request.context.{key}", f"values are strings or lists of strings, not {value!r}"
            )
        lowered = key.lower()
        if values:
            context[lowered] = values
        else:
            context.pop(lowered, None)  # an empty list is an empty data set: absent
    return context


@lru_cache(maxsize=4096)
def _derived(
    principal: str, principal_arn: str | None, resource_account: str | None
) -> dict[str, tuple[str, ...]]:
    """Keys AWS always sets, derived from the caller (reference_policies_condition-keys.html).

    Cached by the request's strings (callers and accounts repeat); never mutate the result.
    """
    caller = parse_caller(principal, principal_arn)
    keys: dict[str, str] = {}
    if caller.kind is PrincipalKind.SERVICE:
        keys["aws:principalservicename"] = caller.arn
        keys["aws:principalisawsservice"] = "true"
    else:
        keys["aws:principalisawsservice"] = "false"
        assert caller.account is not None
        keys["aws:principalaccount"] = caller.account
        if caller.entity_arn:
            keys["aws:principalarn"] = caller.entity_arn
        kind = caller.kind
        keys["aws:principaltype"] = "AssumedRole" if kind is PrincipalKind.ROLE else kind.value
        if kind is PrincipalKind.USER and caller.name:
            keys["aws:username"] = caller.name
        if kind is PrincipalKind.ROOT:
            keys["aws:userid"] = caller.account
        if kind is PrincipalKind.FEDERATED_USER and caller.name:
            keys["aws:userid"] = f"{caller.account}:{caller.name}"
    if resource_account:
        keys["aws:resourceaccount"] = resource_account
    return {k: (v,) for k, v in keys.items()}
