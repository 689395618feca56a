"""Sentences rendered from a decision's data (its reasons, layers and matched statements).

The decision is data (:class:`~crosstrack.iam.model.Decision`); this module only turns it
into the one sentence a doctor prints, and into the lines of ``--explain``.
"""

from __future__ import annotations

from crosstrack.iam.model import Decision, Effect, Layer, Outcome, Reason, Verdict

# Layers that belong to the caller: their sentences need not name the caller twice.
_CALLER_SIDE = {Layer.IDENTITY, Layer.PERMISSION_BOUNDARY, Layer.SESSION_POLICY, Layer.SCP}


def _what(decision: Decision, *, trust: bool) -> str:
    # A trust policy's description already names the role; don't repeat it.
    return decision.action if trust else f"{decision.action} on {decision.resource}"


def _lacks(decision: Decision, layer: Layer, *, trust: bool) -> str:
    """'<layer> does not allow <who> to perform <what>' for one layer."""
    desc = decision.describe(layer)
    if layer in _CALLER_SIDE:
        # The caller's own policies: name the resource even for a trust check.
        full = f"{decision.action} on {decision.resource}"
        if layer is Layer.IDENTITY:
            return f"no identity-based policy of {decision.principal} allows {full}"
        verb = "do" if layer is Layer.SCP else "does"
        return f"{desc} {verb} not allow {full}"
    what = _what(decision, trust=trust)
    verb = "do" if layer is Layer.RCP else "does"
    return f"{desc} {verb} not allow {decision.principal} to perform {what}"


def render(decision: Decision, *, trust: bool = False) -> str:
    """The one-sentence explanation of ``decision``, with the rules noted that shaped it."""
    sentence = _sentence(decision, trust=trust)
    if not decision.notes:
        return sentence
    notes = [_note(decision, reason, what) for reason, what in decision.notes]
    return "; ".join([sentence, *notes])


def _note(decision: Decision, reason: Reason, what: str) -> str:
    if reason is Reason.VARIABLE_NO_VALUE:
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


def _sentence(decision: Decision, *, trust: bool) -> str:
    what = _what(decision, trust=trust)
    if decision.decision is Verdict.EXPLICIT_DENY:
        assert decision.decided_by is not None
        layer = decision.decided_by
        deny = next(m for m in decision.matched if m.layer is layer and m.effect is Effect.DENY)
        which = f"statement {deny.sid!r}" if deny.sid else f"statement {deny.statement}"
        verb = "explicitly deny" if layer in (Layer.SCP, Layer.RCP) else "explicitly denies"
        return (
            f"{decision.describe(layer)} {verb} {what} to {decision.principal} "
            f"({which} of {deny.policy})"
        )
    if decision.decision is Verdict.IMPLICIT_DENY:
        clauses = [_lacks(decision, layer, trust=trust) for layer in decision.missing_allow]
        sentence = "; ".join(clauses)
        first = decision.missing_allow[0]
        if (
            Reason.CROSS_ACCOUNT in decision.reasons
            and first is Layer.RESOURCE_POLICY
            and not trust
        ):
            sentence += (
                f" (cross-account: account {decision.resource_account}, which owns the resource, "
                "must allow it too)"
            )
        elif (
            Reason.RESOURCE_POLICY_REQUIRED in decision.reasons
            and Reason.CROSS_ACCOUNT not in decision.reasons
            and first is Layer.RESOURCE_POLICY
        ):
            sentence += " (it must allow explicitly, even within one account)"
        elif Reason.BOUNDARY_LIMITS_ROLE_GRANT in decision.reasons:
            sentence += " (a resource-policy grant to a role ARN is still limited by it)"
        return sentence
    allowing = [
        decision.describe(layer)
        for layer in (Layer.RESOURCE_POLICY, Layer.IDENTITY)
        if any(m.layer is layer and m.effect is Effect.ALLOW for m in decision.matched)
    ]
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
