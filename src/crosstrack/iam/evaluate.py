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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import repeat
from typing import NamedTuple

from crosstrack.iam.conditions import Context
from crosstrack.iam.errors import PolicyError
from crosstrack.iam.model import (
    Decision,
    Effect,
    Layer,
    MatchedStatement,
    Outcome,
    PlanEntry,
    Policy,
    Reason,
    Request,
    Statement,
    StatementTrace,
    Verdict,
)
from crosstrack.iam.principals import Caller, Grant, PrincipalKind, PrincipalSet, parse_caller
from crosstrack.iam.services import ServiceRules, rules_for
from crosstrack.iam.variables import Template, UnresolvedVariable
from crosstrack.iam.wildcards import Matcher, compile_arn

_ACTION = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9_.-]+$")
_ACCOUNT = re.compile(r"^\d{12}$")


# Enum members the hot path names, as module constants: on Python 3.11 reading a member off
# its class (``Layer.SCP``) goes through the enum machinery and costs ~0.1 us, and one
# evaluation names members a few dozen times.
_DENY = Effect.DENY
_GRANT_ACCOUNT = Grant.ACCOUNT
_GRANT_ANYONE = Grant.ANYONE
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
class _Subject:
    """The request, normalised once, as the traced path (--explain) checks statements."""

    action: str
    resource: str
    caller: Caller
    context: Context
    traces: list[StatementTrace]


# What every layer of one evaluation is checked against, as one tuple (cheap to pass around):
# (lower-cased action, action, resource, caller, context, template hits, matched, subject).
# ``template hits``: per resource template (by identity: templates are interned), whether its
# resolved pattern matches the resource, or None when a variable is missing from the context.
# ``matched``: every statement that applied, in the order of the layers (the result's order).
# ``subject``: None on the hot path, set when tracing.
_Env = tuple[
    str,
    str,
    str,
    Caller,
    Context,
    dict[int, bool | None],
    list[MatchedStatement],
    _Subject | None,
]

# A layer's result: (some statement allows, some statement denies, best resource-policy grant)
_LayerResult = tuple[bool, bool, Grant | None]
_ABSENT: _LayerResult = (False, False, None)


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
    kind = caller.kind
    if kind is _SERVICE or kind is _ROOT:
        _check_layers(caller, identity_policies, permission_boundary, session_policy)
    context = _context(request, resource_account)
    matched: list[MatchedStatement] = []
    subject = _Subject(action, resource, caller, context, []) if trace else None
    env: _Env = (action_key, action, resource, caller, context, {}, matched, subject)

    # The layers in AWS's order (the order of ``matched`` and of the trace).
    scp_failing: tuple[int, ...] | None = None  # None: no SCPs apply
    scp_denies = False
    # SCPs limit the principals of member accounts, never service principals.
    if scps and kind is not _SERVICE:
        scp_failing, scp_denies = _levels(_SCP, "scps", scps, env)
    rcp_failing: tuple[int, ...] | None = None
    rcp_denies = False
    if rcps:
        rcp_failing, rcp_denies = _levels(_RCP, "rcps", rcps, env)
    resource_result = (
        _ABSENT
        if resource_policy is None
        else _layer(_RESOURCE_POLICY, (resource_policy,), _RESOURCE_POLICY_LABELS, env)
    )
    identity_result = _layer(
        _IDENTITY,
        identity_policies,
        _labels("identity_policies", None, len(identity_policies)),
        env,
    )
    boundary_result = (
        None
        if permission_boundary is None
        else _layer(_PERMISSION_BOUNDARY, (permission_boundary,), _BOUNDARY_LABELS, env)
    )
    session_result = (
        None
        if session_policy is None
        else _layer(_SESSION_POLICY, (session_policy,), _SESSION_LABELS, env)
    )
    outcome = _combine(
        scp_failing=scp_failing,
        scp_denies=scp_denies,
        rcp_failing=rcp_failing,
        rcp_denies=rcp_denies,
        resource=resource_result,
        identity=identity_result,
        boundary=boundary_result,
        session=session_result,
        caller=caller,
        resource_account=resource_account,
        requires_resource=requires_resource,
    )
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
        scp_levels_failing=scp_failing,
        rcp_levels_failing=rcp_failing,
        trace=tuple(subject.traces) if subject is not None else (),
    )


# Layers of one policy label it by the layer's name alone ("resource_policy").
_RESOURCE_POLICY_LABELS = ("resource_policy",)
_BOUNDARY_LABELS = ("permission_boundary",)
_SESSION_LABELS = ("session_policy",)


@lru_cache(maxsize=1024)
def _labels(prefix: str, level: int | None, count: int) -> tuple[str, ...]:
    """How results name the policies of a layer: ``identity_policies[1]``, ``scps[0][2]``."""
    base = prefix if level is None else f"{prefix}[{level}]"
    return tuple(f"{base}[{i}]" for i in range(count))


def _levels(
    layer: Layer, prefix: str, levels: Sequence[Sequence[Policy]], env: _Env
) -> tuple[tuple[int, ...], bool]:
    """Check every SCP or RCP level: (the levels without an Allow, whether any level denies)."""
    failing: list[int] = []
    denied = False
    for n, level in enumerate(levels):
        allows, denies, _grant = _layer(layer, level, _labels(prefix, n, len(level)), env)
        if not allows:
            failing.append(n)
        denied = denied or denies
    return tuple(failing), denied


def _layer(  # noqa: PLR0912 - the hot loop, kept in one function on purpose
    layer: Layer, policies: Sequence[Policy], labels: tuple[str, ...], env: _Env
) -> _LayerResult:
    """Check one layer's policies: append what applies to the env's ``matched`` (the hot path).

    Each policy's statements come as a plan for this action and label (see :func:`_plan`):
    only statements whose action matches, each a flat tuple checked with cheap exits in the
    order of _statement_outcome (which --explain uses and this must agree with).
    """
    action_key, action, resource, caller, context, hits, matched, subject = env
    if subject is not None:
        return _layer_traced(layer, policies, labels, subject, matched)
    allows = denies = False
    best: Grant | None = None
    layer_value = layer._value_  # not .value: that is a Python-level descriptor
    for i, policy in enumerate(policies):
        label = policy.name or labels[i]
        plan = policy.plans.get((action_key, layer_value, label))
        if plan is None:
            plan = _plan(policy, action, action_key, layer, label)
        for check, matcher, negated, templates, fixed, grant_of, tests, reported, deny in plan:
            if check:
                if check == 1:
                    if matcher(resource) == negated:
                        continue
                elif not _resource_matches(
                    matcher, negated, templates, resource=resource, context=context, hits=hits
                ):
                    continue
            grant = fixed
            if grant_of is not None:
                grant = grant_of(caller)
                if grant is None:
                    continue
            if tests:
                holds = True
                try:
                    for test in tests:
                        if not test(context):
                            holds = False
                            break
                except UnresolvedVariable:
                    holds = False  # a variable missing from the context: does not apply
                if not holds:
                    continue
            matched.append(reported)
            if deny:
                denies = True
            else:
                allows = True
                if grant is not None and (best is None or grant > best):
                    best = grant
    return allows, denies, best


def _plan(
    policy: Policy, action: str, action_key: str, layer: Layer, label: str
) -> tuple[PlanEntry, ...]:
    """The statements of ``policy`` whose action matches, flattened for :func:`_layer`."""
    reported = policy.matched_statements(layer, label)
    entries: list[PlanEntry] = []
    for st in policy.statements_for(action):
        check = 0
        if st.resources is not None:
            if st.resource_templates:
                check = 2
            elif "*" in st.resources:
                if st.not_resource:
                    continue  # NotResource "*": never applies
            else:
                check = 1
        fixed: Grant | None = None
        grant_of: Callable[[Caller], Grant | None] | None = None
        principals = st.principals
        if principals is not None:
            if st.not_principal:
                grant_of = partial(_not_principal_grant, principals)
            elif principals.anyone and not principals.names:
                fixed = _GRANT_ANYONE  # "*": the same grant for every caller
            else:
                grant_of = principals.grant_for
        entries.append(
            (
                check,
                st.resource_matcher,
                st.not_resource,
                st.resource_templates,
                fixed,
                grant_of,
                tuple(entry.test for entry in st.conditions),
                reported[st.index],
                st.effect is _DENY,
            )
        )
    plan = tuple(entries)
    if len(policy.plans) < 1024:  # bounded: actions and labels come from callers
        policy.plans[(action_key, layer._value_, label)] = plan
    return plan


def _not_principal_grant(principals: PrincipalSet, caller: Caller) -> Grant | None:
    """NotPrincipal: ANYONE unless ``caller`` is exempt."""
    return None if principals.excludes(caller) else _GRANT_ANYONE


def _combine(
    *,
    scp_failing: tuple[int, ...] | None,
    scp_denies: bool,
    rcp_failing: tuple[int, ...] | None,
    rcp_denies: bool,
    resource: _LayerResult,
    identity: _LayerResult,
    boundary: _LayerResult | None,
    session: _LayerResult | None,
    caller: Caller,
    resource_account: str | None,
    requires_resource: bool,
) -> _Outcome:
    """The decision from each layer's result (``None``: the layer is absent)."""
    # 1. An explicit deny in any applicable policy wins (the first such layer decides).
    denied_by = (
        _SCP
        if scp_denies
        else _RCP
        if rcp_denies
        else _RESOURCE_POLICY
        if resource[1]
        else _IDENTITY
        if identity[1]
        else _PERMISSION_BOUNDARY
        if boundary is not None and boundary[1]
        else _SESSION_POLICY
        if session is not None and session[1]
        else None
    )
    if denied_by is not None:
        return _Outcome(_EXPLICIT_DENY, denied_by, (), (_REASON_EXPLICIT_DENY,))
    missing: list[Layer] = []
    reasons: list[Reason] = []
    # 2. Every SCP level (caller's account) and RCP level (resource's account) must allow.
    if scp_failing:
        missing.append(_SCP)
    if rcp_failing:
        missing.append(_RCP)
    # 3. The resource policy and the caller's identity side.
    if caller.kind is _SERVICE:
        # A service principal has no identity side: only the resource policy can allow it.
        side_missing = [] if resource[2] is not None else [_RESOURCE_POLICY]
        granted_by = _RESOURCE_POLICY
    else:
        side_missing, granted_by = _resource_and_identity(
            grant=resource[2],
            identity_allows=identity[0],
            boundary_allows=None if boundary is None else boundary[0],
            session_allows=None if session is None else session[0],
            caller=caller,
            resource_account=resource_account,
            requires_resource=requires_resource,
            reasons=reasons,
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
    *,
    grant: Grant | None,
    identity_allows: bool,
    boundary_allows: bool | None,
    session_allows: bool | None,
    caller: Caller,
    resource_account: str | None,
    requires_resource: bool,
    reasons: list[Reason],
) -> tuple[list[Layer], Layer]:
    """The layers still lacking an Allow on the best path, and the layer that grants."""
    identity_missing: list[Layer] = []
    if caller.kind is not _ROOT and not identity_allows:
        identity_missing.append(_IDENTITY)  # the root user has full access to its account
    if boundary_allows is False:
        identity_missing.append(_PERMISSION_BOUNDARY)
    if session_allows is False:
        identity_missing.append(_SESSION_POLICY)
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


def _layer_traced(
    layer: Layer,
    policies: Sequence[Policy],
    labels: tuple[str, ...],
    subject: _Subject,
    matched: list[MatchedStatement],
) -> _LayerResult:
    """Like :func:`_layer`, recording every statement's outcome and why (for --explain)."""
    allows = denies = False
    best: Grant | None = None
    for i, policy in enumerate(policies):
        label = policy.name or labels[i]
        reported = policy.matched_statements(layer, label)
        for st in policy.statements:
            outcome, detail, grant = _statement_outcome(st, subject)
            subject.traces.append(
                StatementTrace(layer, label, st.index, st.sid, st.effect, outcome, detail)
            )
            if outcome is Outcome.APPLIES:
                matched.append(reported[st.index])
                if st.effect is _DENY:
                    denies = True
                else:
                    allows = True
                    if grant is not None and (best is None or grant > best):
                        best = grant
    return allows, denies, best


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


def _resource_matches(
    matcher: Matcher,
    not_resource: bool,
    templates: tuple[Template, ...],
    *,
    resource: str,
    context: Context,
    hits: dict[int, bool | None],
) -> bool:
    """Whether a Resource/NotResource element with variables lets its statement apply (False
    if unresolvable).

    Same answer as _resource_miss, remembering each template's result for the request.
    """
    hit = matcher(resource)
    for template in templates:
        key = id(template)
        if key in hits:
            known = hits[key]
        else:
            known = hits[key] = _template_hit(template, resource, context)
        if known is None:
            return False  # a variable missing from the context: the statement does not apply
        hit = hit or known
    return hit != not_resource


def _template_hit(template: Template, resource: str, context: Context) -> bool | None:
    try:
        pattern = template.resolve(context)
    except UnresolvedVariable:
        return None
    # compile_arn caches by pattern text, so each resolved pattern is compiled once.
    return compile_arn(pattern)(resource)


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


_STR = repeat(str)  # all(map(isinstance, values, _STR)): every value is a string, in C


def _context(request: Request, resource_account: str | None) -> dict[str, tuple[str, ...]]:
    """The request context with lower-cased keys and tuple values, derived keys included."""
    given: object = request.context
    if type(given) is not dict and not isinstance(given, Mapping):  # (an ABC check is slow)
        raise PolicyError("$.request.context", "must be an object of key -> string or list")
    # a copy: the derived keys are cached and shared by every request of this caller
    context = _derived(request.principal, request.principal_arn, resource_account).copy()
    for key, value in given.items():
        # ``type(x) is str`` first: the common case without a call to isinstance
        if (type(key) is not str and not isinstance(key, str)) or not key:
            raise PolicyError("$.request.context", f"keys must be non-empty strings, not {key!r}")
        if type(value) is str or isinstance(value, str):
            context[key.lower()] = (value,)  # given values win over derived ones
            continue
        if isinstance(value, list | tuple) and all(map(isinstance, value, _STR)):
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
