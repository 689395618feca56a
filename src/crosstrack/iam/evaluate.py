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

from crosstrack.iam.conditions import Context
from crosstrack.iam.errors import PolicyError
from crosstrack.iam.explain import render
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
from crosstrack.iam.wildcards import Matcher, compile_arn_set

_ACTION = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9_.-]+$")
_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(slots=True)
class _LayerResult:
    layer: Layer
    grant: Grant | None = None  # best grant among matching Allow statements (resource policy)
    allows: bool = False
    denies: bool = False
    matched: list[MatchedStatement] = field(default_factory=list)


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
    if not isinstance(action, str) or not _ACTION.match(action):
        raise PolicyError("$.request.action", f"expected service:Action, not {action!r}")
    resource = request.resource
    if not isinstance(resource, str) or not resource:
        raise PolicyError("$.request.resource", "must be a non-empty string (an ARN or *)")
    resource_account = _resource_account(request, caller)
    rules = rules_for(action)
    _check_layers(caller, identity_policies, permission_boundary, session_policy)
    context = _context(request.context, caller, resource_account)
    traces: list[StatementTrace] | None = [] if trace else None

    def run(layer: Layer, policies: Sequence[Policy], prefix: str, *, single: bool) -> _LayerResult:
        result = _LayerResult(layer)
        for i, policy in enumerate(policies):
            label = policy.name or (prefix if single else f"{prefix}[{i}]")
            _analyse(policy, label, result, action, resource, caller, context, traces)
        return result

    def one(policy: Policy | None) -> list[Policy]:
        return [policy] if policy is not None else []

    scp_levels = (
        []
        if caller.kind is PrincipalKind.SERVICE  # SCPs limit principals of member accounts
        else [run(Layer.SCP, lv, f"scps[{n}]", single=False) for n, lv in enumerate(scps)]
    )
    rcp_levels = [run(Layer.RCP, lv, f"rcps[{n}]", single=False) for n, lv in enumerate(rcps)]
    res = run(Layer.RESOURCE_POLICY, one(resource_policy), "resource_policy", single=True)
    ident = run(Layer.IDENTITY, identity_policies, "identity_policies", single=False)
    bound = run(
        Layer.PERMISSION_BOUNDARY, one(permission_boundary), "permission_boundary", single=True
    )
    sess = run(Layer.SESSION_POLICY, one(session_policy), "session_policy", single=True)

    everything = [*scp_levels, *rcp_levels, res, ident, bound, sess]
    matched = tuple(m for r in everything for m in r.matched)
    descriptions = _describe(
        caller,
        resource,
        rules,
        scp_levels,
        rcp_levels,
        resource_policy,
        identity_policies,
        permission_boundary,
        session_policy,
    )

    def done(
        verdict: Verdict,
        decided_by: Layer | None,
        missing: Sequence[Layer],
        reasons: Sequence[Reason],
    ) -> Decision:
        decision = Decision(
            decision=verdict,
            decided_by=decided_by,
            matched=matched,
            missing_allow=tuple(missing),
            reasons=tuple(reasons),
            explanation="",
            principal=caller.display,
            action=action,
            resource=resource,
            resource_account=resource_account,
            layers=descriptions,
            trace=tuple(traces) if traces is not None else (),
        )
        return _with_explanation(decision, rules)

    # 1. An explicit deny in any applicable policy wins.
    for r in everything:
        if r.denies:
            return done(Verdict.EXPLICIT_DENY, r.layer, (), (Reason.EXPLICIT_DENY,))

    missing: list[Layer] = []
    reasons: list[Reason] = []
    # 2. Every SCP level (caller's account) and RCP level (resource's account) must allow.
    if any(not level.allows for level in scp_levels):
        missing.append(Layer.SCP)
    if any(not level.allows for level in rcp_levels):
        missing.append(Layer.RCP)

    # 3. Resource policy and identity side.
    grant = res.grant
    requires_resource = rules.requires_resource_allow(action)
    side_missing: list[Layer]
    if caller.kind is PrincipalKind.SERVICE:
        # A service principal has no identity side: only the resource policy can allow it.
        side_missing = [] if grant is not None else [Layer.RESOURCE_POLICY]
        granted_by = Layer.RESOURCE_POLICY
    else:
        identity_missing: list[Layer] = []
        if caller.kind is not PrincipalKind.ROOT and not ident.allows:
            identity_missing.append(Layer.IDENTITY)
        if permission_boundary is not None and not bound.allows:
            identity_missing.append(Layer.PERMISSION_BOUNDARY)
        if session_policy is not None and not sess.allows:
            identity_missing.append(Layer.SESSION_POLICY)
        limits_missing: list[Layer] = [m for m in identity_missing if m is not Layer.IDENTITY]
        resource_missing: list[Layer] = [] if grant is not None else [Layer.RESOURCE_POLICY]
        granted_by = Layer.IDENTITY
        if requires_resource:
            reasons.append(Reason.RESOURCE_POLICY_REQUIRED)
        if caller.account != resource_account:
            # Cross-account: the resource's account and the caller's account must both allow.
            reasons.append(Reason.CROSS_ACCOUNT)
            side_missing = resource_missing + identity_missing
        elif grant is None:
            side_missing = (resource_missing if requires_resource else []) + identity_missing
        elif grant >= Grant.USER:
            # Granted to the session (or IAM user) itself: other implicit denies do not count.
            side_missing = []
            granted_by = Layer.RESOURCE_POLICY
        elif grant is not Grant.ACCOUNT:
            # Granted to the role ARN (or "*"): still limited by boundary and session policy.
            side_missing = limits_missing
            granted_by = Layer.RESOURCE_POLICY
            if limits_missing:
                reasons.append(Reason.BOUNDARY_LIMITS_ROLE_GRANT)
        else:
            # Granted to the account: delegated to the account's identity-based policies.
            side_missing = identity_missing
    missing.extend(side_missing)
    if missing:
        ordered = [layer for layer in _ORDER if layer in missing]
        return done(Verdict.IMPLICIT_DENY, ordered[0], ordered, [*reasons, Reason.NO_ALLOW])
    final = (
        Reason.ALLOWED_BY_RESOURCE_POLICY
        if granted_by is Layer.RESOURCE_POLICY
        else Reason.ALLOWED_BY_IDENTITY
    )
    return done(Verdict.ALLOWED, granted_by, (), [*reasons, final])


_ORDER = tuple(Layer)


def _analyse(
    policy: Policy,
    label: str,
    result: _LayerResult,
    action: str,
    resource: str,
    caller: Caller,
    context: Context,
    traces: list[StatementTrace] | None,
) -> None:
    layer = result.layer
    for st in policy.statements:
        outcome, detail, grant = _statement_applies(st, action, resource, caller, context)
        if traces is not None:
            traces.append(
                StatementTrace(layer, label, st.index, st.sid, st.effect, outcome, detail)
            )
        if outcome is not Outcome.APPLIES:
            continue
        result.matched.append(MatchedStatement(layer, label, st.index, st.sid, st.effect))
        if st.effect is Effect.DENY:
            result.denies = True
        else:
            result.allows = True
            if grant is not None and (result.grant is None or grant > result.grant):
                result.grant = grant


def _statement_applies(
    st: Statement, action: str, resource: str, caller: Caller, context: Context
) -> tuple[Outcome, str | None, Grant | None]:
    if st.actions(action) == st.not_action:
        return Outcome.ACTION_NOT_MATCHED, None, None
    if st.resources is not None:
        matcher = st.resource_matcher
        if matcher is None:
            try:
                matcher = _resolved_matcher(st.resources, context)
            except UnresolvedVariable as exc:
                return Outcome.VARIABLE_UNRESOLVED, exc.name, None
        if matcher(resource) == st.not_resource:
            return Outcome.RESOURCE_NOT_MATCHED, None, None
    grant: Grant | None = None
    if st.principals is not None:
        if st.not_principal:
            if st.principals.excludes(caller):
                return Outcome.PRINCIPAL_NOT_MATCHED, None, None
            grant = Grant.ANYONE
        else:
            grant = st.principals.grant_for(caller)
            if grant is None:
                return Outcome.PRINCIPAL_NOT_MATCHED, None, None
    for entry in st.conditions:
        try:
            holds = entry.holds(context)
        except UnresolvedVariable as exc:
            return Outcome.VARIABLE_UNRESOLVED, exc.name, None
        if not holds:
            return Outcome.CONDITION_FALSE, f"{entry.operator} {entry.key}", None
    return Outcome.APPLIES, None, grant


def _resolved_matcher(resources: tuple[str | Template, ...], context: Context) -> Matcher:
    resolved = tuple(r.resolve(context) if isinstance(r, Template) else r for r in resources)
    return _cached_arn_set(resolved)


@lru_cache(maxsize=4096)
def _cached_arn_set(patterns: tuple[str, ...]) -> Matcher:
    return compile_arn_set(patterns)


def _resource_account(request: Request, caller: Caller) -> str | None:
    given = request.resource_account
    if given is not None and (not isinstance(given, str) or not _ACCOUNT.match(given)):
        raise PolicyError(
            "$.request.resource_account", f"expected a 12-digit account id, not {given!r}"
        )
    parts = request.resource.split(":", 5)
    in_arn = parts[4] if len(parts) == 6 and _ACCOUNT.match(parts[4]) else None
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


def _check_layers(
    caller: Caller,
    identity_policies: Sequence[Policy],
    permission_boundary: Policy | None,
    session_policy: Policy | None,
) -> None:
    if caller.kind in (PrincipalKind.SERVICE, PrincipalKind.ROOT):
        what = "a service principal" if caller.kind is PrincipalKind.SERVICE else "the root user"
        for given, path in (
            (bool(identity_policies), "$.identity_policies"),
            (permission_boundary is not None, "$.permission_boundary"),
            (session_policy is not None, "$.session_policy"),
        ):
            if given:
                raise PolicyError(path, f"{what} has no {path[2:].replace('_', ' ')}")


def _context(
    given: Mapping[str, str | tuple[str, ...]] | Mapping[str, object],
    caller: Caller,
    resource_account: str | None,
) -> dict[str, tuple[str, ...]]:
    context = dict(_derived(caller, resource_account))
    if not isinstance(given, Mapping):
        raise PolicyError("$.request.context", "must be an object of key -> string or list")
    for key, value in given.items():
        if not isinstance(key, str) or not key:
            raise PolicyError("$.request.context", f"keys must be non-empty strings, not {key!r}")
        if isinstance(value, str):
            values: tuple[str, ...] = (value,)
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            values = tuple(value)
        elif isinstance(value, bool):
            values = ("true" if value else "false",)
        else:
            raise PolicyError(
                f"$.request.context.{key}", f"values are strings or lists of strings, not {value!r}"
            )
        lowered = key.lower()
        if values:
            context[lowered] = values  # given values win over derived ones
        else:
            context.pop(lowered, None)  # an empty list is an empty data set: absent
    return context


@lru_cache(maxsize=4096)
def _derived(
    caller: Caller, resource_account: str | None
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Keys AWS always sets, derived from the caller (reference_policies_condition-keys.html)."""
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
    return tuple((k, (v,)) for k, v in keys.items())


def _describe(
    caller: Caller,
    resource: str,
    rules: ServiceRules,
    scp_levels: Sequence[_LayerResult],
    rcp_levels: Sequence[_LayerResult],
    resource_policy: Policy | None,
    identity_policies: Sequence[Policy],
    permission_boundary: Policy | None,
    session_policy: Policy | None,
) -> dict[Layer, str]:
    who = caller.display
    out = {
        Layer.RESOURCE_POLICY: rules.describe(resource),
        Layer.IDENTITY: f"the identity-based policies of {who}",
        Layer.PERMISSION_BOUNDARY: f"the permissions boundary of {who}",
        Layer.SESSION_POLICY: f"the session policy of {caller.arn}",
    }
    if scp_levels:
        failing = [str(n) for n, level in enumerate(scp_levels) if not level.allows]
        where = f" at level {', '.join(failing)}" if failing else ""
        out[Layer.SCP] = f"the service control policies{where}"
    if rcp_levels:
        failing = [str(n) for n, level in enumerate(rcp_levels) if not level.allows]
        where = f" at level {', '.join(failing)}" if failing else ""
        out[Layer.RCP] = f"the resource control policies{where}"
    return out


def _with_explanation(decision: Decision, rules: ServiceRules) -> Decision:
    from dataclasses import replace

    return replace(decision, explanation=render(decision, trust=rules.prefix == "sts"))
