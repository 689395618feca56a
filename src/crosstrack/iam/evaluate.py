"""The decision: each policy layer analysed into matching allows and denies, then combined.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html

One evaluation, in four steps, each in its own module:

1. the request is normalised once (:mod:`crosstrack.iam.context`);
2. each layer's statements are checked, in AWS's order of layers — by the hot path
   (:mod:`crosstrack.iam.layers`) or, with ``trace=True``, by the traced path that records every
   statement's outcome (:mod:`crosstrack.iam.traced`);
3. the layers' results are combined into the decision (:mod:`crosstrack.iam.combine`);
4. the :class:`Decision` carries what an explanation needs; its text is rendered on demand
   (:mod:`crosstrack.iam.explain`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from crosstrack.iam.combine import ABSENT, LayerResult, LevelsResult, Verdicts, combine
from crosstrack.iam.context import action_rules, build_context, check_layers, resource_account
from crosstrack.iam.errors import PolicyError, show
from crosstrack.iam.layers import Env, check_layer, labels
from crosstrack.iam.members import (
    IDENTITY,
    PERMISSION_BOUNDARY,
    RCP,
    RESOURCE_POLICY,
    ROOT,
    SCP,
    SERVICE,
    SESSION_POLICY,
)
from crosstrack.iam.model import (
    Decision,
    Layer,
    MatchedStatement,
    Note,
    Policy,
    Request,
    StatementTrace,
)
from crosstrack.iam.principals import Caller, parse_caller
from crosstrack.iam.services import ServiceRules
from crosstrack.iam.traced import check_layer_traced

# Layers of one policy label it by the layer's name alone ("resource_policy").
_RESOURCE_POLICY_LABELS = ("resource_policy",)
_BOUNDARY_LABELS = ("permission_boundary",)
_SESSION_LABELS = ("session_policy",)


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
    return evaluate_fields(
        (request.principal, request.principal_arn, request.action, request.resource),
        request.resource_account,
        request.context,
        (identity_policies, permission_boundary, session_policy, resource_policy, scps, rcps),
        trace=trace,
    )


#: The policies of one evaluation, in the order of :func:`evaluate`'s keyword arguments:
#: identity policies, permissions boundary, session policy, resource policy, SCP levels and
#: RCP levels.
Layers = tuple[
    Sequence[Policy],
    Policy | None,
    Policy | None,
    Policy | None,
    Sequence[Sequence[Policy]],
    Sequence[Sequence[Policy]],
]


def evaluate_fields(
    who: tuple[str, str | None, str, str],
    given_account: object,
    given_context: object,
    layers: Layers,
    *,
    trace: bool = False,
) -> Decision:
    """:func:`evaluate` on the request's fields, without building a :class:`Request`:
    ``who`` is (principal, principal_arn, action, resource). ``simulate`` calls this with the
    fields it has just validated."""
    principal, principal_arn, action, resource = who
    identity_policies, permission_boundary, session_policy, resource_policy, scps, rcps = layers
    caller = parse_caller(principal, principal_arn)
    if not isinstance(action, str):
        raise PolicyError("$.request.action", f"expected service:Action, not {show(action)}")
    action_key, rules, requires_resource = action_rules(action)
    if not isinstance(resource, str) or not resource:
        raise PolicyError("$.request.resource", "must be a non-empty string (an ARN or *)")
    if requires_resource:
        requires_resource = rules.requires_resource_allow_on(resource)
    account = resource_account(resource, given_account)
    kind = caller.kind
    if kind is SERVICE or kind is ROOT:
        check_layers(caller, identity_policies, permission_boundary, session_policy)
    context = build_context(given_context, principal, principal_arn, account)
    matched: list[MatchedStatement] = []
    notes: list[Note] = []
    bounded = permission_boundary is not None
    env: Env = (action_key, action, resource, caller, context, {}, matched, bounded, notes)
    traces: list[StatementTrace] = []
    layer: CheckLayer = partial(check_layer_traced, traces=traces) if trace else check_layer

    # The layers in AWS's order (the order of ``matched`` and of the trace).
    # SCPs limit the principals of member accounts, never service principals.
    scp = _levels(layer, SCP, "scps", scps, env) if scps and kind is not SERVICE else None
    rcp = _levels(layer, RCP, "rcps", rcps, env) if rcps else None
    resource_result = (
        ABSENT
        if resource_policy is None
        else layer(RESOURCE_POLICY, (resource_policy,), _RESOURCE_POLICY_LABELS, env)
    )
    identity_result = layer(
        IDENTITY, identity_policies, labels("identity_policies", None, len(identity_policies)), env
    )
    boundary_result = (
        None
        if permission_boundary is None
        else layer(PERMISSION_BOUNDARY, (permission_boundary,), _BOUNDARY_LABELS, env)
    )
    session_result = (
        None
        if session_policy is None
        else layer(SESSION_POLICY, (session_policy,), _SESSION_LABELS, env)
    )
    outcome = combine(
        scp,
        rcp,
        (resource_result, identity_result, boundary_result, session_result),
        caller,
        account,
        requires_resource=requires_resource,
    )
    return _decision(
        outcome, matched, caller, action, resource, account, rules, scp, rcp, traces, notes
    )


_new = object.__new__
_set_fields = object.__setattr__


def _decision(  # noqa: PLR0917 - what one evaluation found, passed on as is
    outcome: Verdicts,
    matched: list[MatchedStatement],
    caller: Caller,
    action: str,
    resource: str,
    account: str,
    rules: ServiceRules,
    scp: LevelsResult | None,
    rcp: LevelsResult | None,
    traces: list[StatementTrace],
    notes: list[Note],
) -> Decision:
    """The :class:`Decision` of one evaluation, made the cheap way: one dict literal becomes
    the new instance's fields. (Called with keywords, the constructor of a frozen dataclass
    passes its 16 fields through three dicts on Python 3.11; this is once per request.)"""
    verdict, decided_by, missing, reasons = outcome
    decision = _new(Decision)
    _set_fields(
        decision,
        "__dict__",
        {
            "decision": verdict,
            "decided_by": decided_by,
            "matched": tuple(matched),
            "missing_allow": missing,
            "reasons": reasons,
            "principal": caller.display,
            "caller": caller.arn,
            "action": action,
            "resource": resource,
            "resource_account": account,
            "resource_policy_label": rules.describe(resource),
            "trust": rules.prefix == "sts",
            "scp_levels_failing": None if scp is None else scp[0],
            "rcp_levels_failing": None if rcp is None else rcp[0],
            "trace": tuple(traces),
            "notes": tuple(sorted(set(notes), key=_note_key)) if notes else (),
        },
    )
    return decision


CheckLayer = Callable[[Layer, Sequence[Policy], tuple[str, ...], Env], LayerResult]


def _levels(
    layer: CheckLayer, which: Layer, prefix: str, given: Sequence[Sequence[Policy]], env: Env
) -> LevelsResult:
    """Every SCP or RCP level: (the levels without an Allow, whether any level denies)."""
    failing: list[int] = []
    denied = False
    for n, level in enumerate(given):
        allows, denies, _grant = layer(which, level, labels(prefix, n, len(level)), env)
        if not allows:
            failing.append(n)
        denied = denied or denies
    return tuple(failing), denied


def _note_key(note: Note) -> tuple[str, str]:
    return note[0].value, note[1]
