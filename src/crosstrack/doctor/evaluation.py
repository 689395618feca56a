"""One request through crosstrack.iam, judged per side of a link.

The doctor asks the engine the full question AWS asks (both accounts' policies at once, with
the context the reporter's or the schedule's real request carries) and then reads the
decision per *side*: link 2 is role A's identity side of the AssumeRole that link 3 judges by
role B's trust policy. A side holds when none of its policies denies and each policy layer it
needs allowed (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crosstrack.doctor.model import NamedPolicy, StatementRef
from crosstrack.iam import (
    Decision,
    Effect,
    Layer,
    Outcome,
    PolicyError,
    PolicyKind,
    Request,
    StatementTrace,
    evaluate,
    parse_policy,
)

IDENTITY_SIDE = frozenset({Layer.IDENTITY, Layer.PERMISSION_BOUNDARY, Layer.SESSION_POLICY})
RESOURCE_SIDE = frozenset({Layer.RESOURCE_POLICY})

# Why a statement that names the action still did not apply, most telling first.
_NEAR_MISS = (
    Outcome.CONDITION_FALSE,
    Outcome.VARIABLE_UNRESOLVED,
    Outcome.PRINCIPAL_NOT_MATCHED,
    Outcome.RESOURCE_NOT_MATCHED,
)


@dataclass(frozen=True)
class Asked:
    """A request and the policies that decide it (documents as read, not yet parsed)."""

    principal: str
    action: str
    resource: str
    context: Mapping[str, str | tuple[str, ...]]
    principal_arn: str | None = None
    resource_account: str | None = None
    identity: Sequence[NamedPolicy] = ()
    boundary: NamedPolicy | None = None
    resource_policy: NamedPolicy | None = None
    resource_kind: PolicyKind = PolicyKind.RESOURCE


@dataclass(frozen=True)
class SideResult:
    """How one side of a decision came out."""

    ok: bool
    statement: StatementRef | None  # the deciding Allow/Deny, or the nearest miss
    evidence: str
    decision: Decision


def ask(asked: Asked) -> Decision:
    """Evaluate ``asked`` with a full trace. Raises PolicyError on an unusable document."""
    identity = [parse_policy(p.document, PolicyKind.IDENTITY, name=p.name) for p in asked.identity]
    boundary = (
        None
        if asked.boundary is None
        else parse_policy(asked.boundary.document, PolicyKind.BOUNDARY, name=asked.boundary.name)
    )
    resource = (
        None
        if asked.resource_policy is None
        else parse_policy(
            asked.resource_policy.document, asked.resource_kind, name=asked.resource_policy.name
        )
    )
    request = Request(
        principal=asked.principal,
        action=asked.action,
        resource=asked.resource,
        principal_arn=asked.principal_arn,
        resource_account=asked.resource_account,
        context=dict(asked.context),
    )
    return evaluate(
        request,
        identity_policies=identity,
        permission_boundary=boundary,
        resource_policy=resource,
        trace=True,
    )


def _ref(policy: str, index: int, sid: str | None) -> StatementRef:
    return StatementRef(policy, index, sid)


def near_miss(decision: Decision, layers: frozenset[Layer]) -> StatementTrace | None:
    """The Allow statement of ``layers`` that named the action but did not apply, if any."""
    candidates = [
        t
        for t in decision.trace
        if t.layer in layers and t.effect is Effect.ALLOW and t.outcome in _NEAR_MISS
    ]
    candidates.sort(key=lambda t: _NEAR_MISS.index(t.outcome))
    return candidates[0] if candidates else None


def describe_miss(trace: StatementTrace) -> str:
    where = f"statement {trace.statement}" + (f" [{trace.sid}]" if trace.sid else "")
    detail = f": {trace.detail}" if trace.detail else ""
    outcome = f"{trace.outcome.value}{detail}"
    return f"{trace.policy} {where} names the action but does not apply ({outcome})"


def side(decision: Decision, layers: frozenset[Layer], *, what: str) -> SideResult:
    """Judge ``layers`` of ``decision``; ``what`` names those policies in the evidence."""
    for m in decision.matched:
        if m.layer in layers and m.effect is Effect.DENY:
            ref = _ref(m.policy, m.statement, m.sid)
            return SideResult(False, ref, f"explicitly denied by {ref}", decision)
    explicit = decision.decided_by is not None and decision.decision.value == "explicitDeny"
    allows = [m for m in decision.matched if m.layer in layers and m.effect is Effect.ALLOW]
    needed = [layer for layer in decision.missing_allow if layer in layers]
    if explicit:
        # Another side's Deny ended the evaluation: this side holds if its layers allowed.
        present = {m.layer for m in allows}
        needed = [Layer.IDENTITY] if layers == IDENTITY_SIDE and not present else needed
        if layers == RESOURCE_SIDE:
            # trust and key policies must allow explicitly; other resource policies need not
            must = decision.trust or ":key/" in decision.resource
            needed = (
                [Layer.RESOURCE_POLICY] if must and Layer.RESOURCE_POLICY not in present else []
            )
    if needed:
        miss = near_miss(decision, layers)
        if miss is not None:
            return SideResult(
                False,
                _ref(miss.policy, miss.statement, miss.sid),
                f"no statement of {what} allows it: {describe_miss(miss)}",
                decision,
            )
        return SideResult(False, None, f"no statement of {what} allows {decision.action}", decision)
    if allows:
        ref = _ref(allows[0].policy, allows[0].statement, allows[0].sid)
        return SideResult(True, ref, f"allowed by {ref}", decision)
    return SideResult(True, None, f"{what}: nothing denies it and no allow is needed", decision)


def policy_error(exc: PolicyError) -> str:
    return f"a policy could not be evaluated: {exc}"
