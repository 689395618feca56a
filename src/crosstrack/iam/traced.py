"""The traced path of :func:`evaluate` (``trace=True``, ``--explain``): every statement's outcome.

It looks at every statement, not only those a plan keeps, and records why each one applied or
not; its decisions, deciding layers, matched statements and notes must equal the hot path's
(:mod:`crosstrack.iam.layers`), which a property test checks on random cases. The checks run
in the same order (action, resource, principal, conditions) and share the resource-entry and
NotPrincipal rules with the hot path, so the two cannot drift apart on them.
"""

from __future__ import annotations

from collections.abc import Sequence

from crosstrack.iam.combine import LayerResult
from crosstrack.iam.conditions import Context
from crosstrack.iam.layers import Env, not_principal_grant, resource_applies
from crosstrack.iam.members import ALLOW, DENY, GRANT_ANYONE, NOT_PRINCIPAL_BOUNDARY
from crosstrack.iam.model import (
    Effect,
    Layer,
    Outcome,
    Policy,
    Statement,
    StatementTrace,
)
from crosstrack.iam.principals import Grant
from crosstrack.iam.variables import Template

# (outcome, detail, grant when the statement applies)
_Checked = tuple[Outcome, str | None, Grant | None]


def check_layer_traced(
    layer: Layer,
    policies: Sequence[Policy],
    names: tuple[str, ...],
    env: Env,
    traces: list[StatementTrace],
) -> LayerResult:
    """Like :func:`crosstrack.iam.layers.check_layer`, recording every statement's outcome."""
    matched = env[6]
    applied: list[tuple[Effect, Grant | None]] = []  # (effect, grant) of each that applies
    for i, policy in enumerate(policies):
        label = policy.name or names[i]
        reported = policy.matched_statements(layer, label)
        for st in policy.statements:
            outcome, detail, grant = statement_outcome(st, label, env)
            traces.append(
                StatementTrace(layer, label, st.index, st.sid, st.effect, outcome, detail)
            )
            if outcome is Outcome.APPLIES:
                matched.append(reported[st.index])
                applied.append((st.effect, grant))
    # The layer's result, derived from what applied (the hot path accumulates it as it goes)
    allow_grants = [grant for effect, grant in applied if effect is ALLOW]
    best = max((grant for grant in allow_grants if grant is not None), default=None)
    return bool(allow_grants), len(allow_grants) < len(applied), best


def statement_outcome(st: Statement, label: str, env: Env) -> _Checked:
    """Whether ``st`` applies, and if not the first check that failed (with its detail)."""
    _key, action, resource, caller, context, hits, _matched, bounded, notes = env
    if st.actions(action) == st.not_action:
        return Outcome.ACTION_NOT_MATCHED, None, None
    details: list[str] = []
    if st.resources is not None:
        if not st.resource_templates and st.not_resource and "*" in st.resources:
            return Outcome.RESOURCE_NOT_MATCHED, None, None
        applies = resource_applies(
            st.resource_matcher,
            st.not_resource,
            st.resource_templates,
            resource,
            context,
            hits,
            notes,
        )
        details.extend(_entries_without_value(st, context))
        if not applies:
            return Outcome.RESOURCE_NOT_MATCHED, _join(details), None
    grant: Grant | None = None
    forced = False
    if st.principals is not None:
        if st.not_principal:
            grant = not_principal_grant(st.principals, caller)
            if grant is None and bounded and st.effect is DENY:
                forced = True
                grant = GRANT_ANYONE
                details.append(
                    f"{caller.arn} is exempt by NotPrincipal, but a Deny with "
                    "NotPrincipal applies to every principal with a permissions boundary"
                )
        else:
            grant = st.principals.grant_for(caller)
        if grant is None:
            return Outcome.PRINCIPAL_NOT_MATCHED, _join(details), None
    for entry in st.conditions:
        holds = entry.test(context)
        details.extend(
            f"value {n} of {entry.operator} {entry.key} has a policy variable with no value "
            f"(${{{name}}}): it matches nothing"
            for n, name in entry.values_without_value(context)
        )
        if not holds:
            details.insert(0, f"{entry.operator} {entry.key}")
            return Outcome.CONDITION_FALSE, _join(details), None
    if forced:
        notes.append((NOT_PRINCIPAL_BOUNDARY, label))
    return Outcome.APPLIES, _join(details), grant


def _entries_without_value(st: Statement, context: Context) -> list[str]:
    """One line per Resource/NotResource entry whose variable has no value."""
    assert st.resources is not None
    element = "NotResource" if st.not_resource else "Resource"
    found = []
    for n, entry in enumerate(st.resources, 1):
        missing = entry.missing(context) if isinstance(entry, Template) else ()
        if missing:
            names = ", ".join(f"${{{name}}}" for name in missing)
            found.append(
                f"{element} entry {n} has a policy variable with no value ({names}): "
                "it matches nothing"
            )
    return found


def _join(details: list[str]) -> str | None:
    return "; ".join(details) if details else None
