"""Sentences rendered from a decision's data (its reasons, layers and matched statements).

The decision is data (:class:`~crosstrack.iam.model.Decision`); this module only turns it
into the one sentence a doctor prints, and into the lines of ``--explain``.
"""

from __future__ import annotations

from crosstrack.iam.members import (
    ALLOW,
    BOUNDARY_LIMITS_ROLE_GRANT,
    CROSS_ACCOUNT,
    DENY,
    EXPLICIT_DENY,
    IDENTITY,
    IMPLICIT_DENY,
    PERMISSION_BOUNDARY,
    RCP,
    RESOURCE_POLICY,
    RESOURCE_POLICY_REQUIRED,
    SCP,
    SESSION_POLICY,
    VARIABLE_NO_VALUE,
)
from crosstrack.iam.model import Decision, Layer, MatchedStatement, Outcome, Reason

# Layers that belong to the caller: their sentences need not name the caller twice.
_CALLER_SIDE = frozenset({IDENTITY, PERMISSION_BOUNDARY, SESSION_POLICY, SCP})
# Every simulate result carries a sentence, so this module reads enum members through the
# module constants of ``members`` (see there why).


def describe(decision: Decision, layer: Layer) -> str:
    """How a sentence names ``layer`` of ``decision``."""
    if layer is RESOURCE_POLICY:
        return decision.resource_policy_label
    if layer is IDENTITY:
        return f"the identity-based policies of {decision.principal}"
    if layer is PERMISSION_BOUNDARY:
        return f"the permissions boundary of {decision.principal}"
    if layer is SESSION_POLICY:
        return f"the session policy of {decision.caller}"
    scp = layer is SCP
    failing = decision.scp_levels_failing if scp else decision.rcp_levels_failing
    what = "service control policies" if scp else "resource control policies"
    where = f" at level {', '.join(map(str, failing))}" if failing else ""
    return f"the {what}{where}"


def _lacks(decision: Decision, layer: Layer, what: str) -> str:
    """'<layer> does not allow <who> to perform <what>' for one layer."""
    if layer in _CALLER_SIDE:
        # The caller's own policies: name the resource even for a trust check.
        full = f"{decision.action} on {decision.resource}"
        if layer is IDENTITY:
            return f"no identity-based policy of {decision.principal} allows {full}"
        verb = "do" if layer is SCP else "does"
        return f"{describe(decision, layer)} {verb} not allow {full}"
    verb = "do" if layer is RCP else "does"
    return f"{describe(decision, layer)} {verb} not allow {decision.principal} to perform {what}"


def render(decision: Decision, *, trust: bool = False) -> str:
    """The one-sentence explanation of ``decision``, with the rules noted that shaped it."""
    # A trust policy's description already names the role; don't repeat it.
    what = decision.action if trust else f"{decision.action} on {decision.resource}"
    verdict = decision.decision
    if verdict is EXPLICIT_DENY:
        sentence = _denied(decision, what)
    elif verdict is IMPLICIT_DENY:
        sentence = _not_allowed(decision, what, trust=trust)
    else:
        sentence = _allowed(decision, what)
    if not decision.notes:
        return sentence
    notes = [_note(decision, reason, subject) for reason, subject in decision.notes]
    return "; ".join([sentence, *notes])


def result(decision: Decision) -> dict[str, object]:
    """The ``simulate`` result of ``decision`` (issue 3's format), in fresh dicts and lists:
    the caller may change them."""
    fields = decision.__dict__
    explanation = fields.get("explanation")
    if explanation is None:
        # fills the cache of Decision.explanation (a cached_property: on Python 3.11 its
        # every access takes a lock, on simulate's hot path)
        explanation = fields["explanation"] = render(decision, trust=decision.trust)
    decided_by = decision.decided_by
    return {
        "decision": decision.decision._value_,
        "decided_by": None if decided_by is None else decided_by._value_,
        "matched": [m.row.copy() for m in decision.matched],
        "missing_allow": [layer._value_ for layer in decision.missing_allow],
        "explanation": explanation,
    }


def _note(decision: Decision, reason: Reason, what: str) -> str:
    if reason is VARIABLE_NO_VALUE:
        # reference_policies_variables.html#policy-vars-no-value
        return (
            f"the policy variable ${{{what}}} has no value in the request context, so a "
            "Resource or NotResource entry that uses it matches nothing"
        )
    # reference_policies_elements_notprincipal.html
    return (
        f"a Deny with NotPrincipal in {what} applies to {decision.caller} whatever NotPrincipal "
        "lists, because the caller has a permissions boundary"
    )


def _denied(decision: Decision, what: str) -> str:
    layer = decision.decided_by
    assert layer is not None
    deny = _first_deny(decision.matched, layer)
    which = f"statement {deny.sid!r}" if deny.sid else f"statement {deny.statement}"
    verb = "explicitly deny" if layer is SCP or layer is RCP else "explicitly denies"
    return (
        f"{describe(decision, layer)} {verb} {what} to {decision.principal} "
        f"({which} of {deny.policy})"
    )


def _first_deny(matched: tuple[MatchedStatement, ...], layer: Layer) -> MatchedStatement:
    for statement in matched:
        if statement.layer is layer and statement.effect is DENY:
            return statement
    raise AssertionError(f"an explicit deny by {layer} with no matching Deny statement")


def _not_allowed(decision: Decision, what: str, *, trust: bool) -> str:
    missing = decision.missing_allow
    reasons = decision.reasons
    sentence = "; ".join([_lacks(decision, layer, what) for layer in missing])
    first = missing[0]
    if CROSS_ACCOUNT in reasons and first is RESOURCE_POLICY and not trust:
        sentence += (
            f" (cross-account: account {decision.resource_account}, which owns the resource, "
            "must allow it too)"
        )
    elif (
        RESOURCE_POLICY_REQUIRED in reasons
        and CROSS_ACCOUNT not in reasons
        and first is RESOURCE_POLICY
    ):
        sentence += " (it must allow explicitly, even within one account)"
    elif BOUNDARY_LIMITS_ROLE_GRANT in reasons:
        sentence += " (a resource-policy grant to a role ARN is still limited by it)"
    return sentence


def _allowed(decision: Decision, what: str) -> str:
    allowing = []
    for layer in (RESOURCE_POLICY, IDENTITY):
        for statement in decision.matched:
            if statement.layer is layer and statement.effect is ALLOW:
                allowing.append(describe(decision, layer))
                break
    if not allowing:
        return f"{decision.principal} may perform {what}: the root user has full access"
    return f"{decision.principal} may perform {what}: allowed by {' and '.join(allowing)}"


def trace_lines(decision: Decision) -> list[str]:
    """One line per evaluated statement (needs a decision made with ``trace=True``)."""
    lines = []
    for t in decision.trace:
        sid = f" ({t.sid})" if t.sid else ""
        detail = f": {t.detail}" if t.detail else ""
        mark = "matches" if t.outcome is Outcome.APPLIES else t.outcome.value
        lines.append(
            f"{t.layer.value} {t.policy} statement {t.statement}{sid} [{t.effect.value}] "
            f"{mark}{detail}"
        )
    return lines
