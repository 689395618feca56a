"""Asking the IAM engine one question and recording the answer in the audit log.

Every decision the local AWS makes goes through :meth:`Decider.ask`: the question's policy
documents are compiled by :func:`crosstrack.iam.parse_policy` (cached by the document's
content, so a policy written through any API — IAM, a bucket, key, function or queue policy —
is seen on the next request without any invalidation hook) and decided by
:func:`crosstrack.iam.evaluate`, the engine the doctor uses too, so the emulator and the
diagnosis can never disagree. The answer is the engine's typed :class:`~crosstrack.iam.Decision`;
it is appended to the audit log with the layer and statement that decided it.

Only an invalid policy (:class:`~crosstrack.iam.PolicyError`) becomes a deny — fail closed,
and the audit entry names the policy. Any other exception is a bug, not a policy problem:
its traceback goes to stderr and :class:`EngineFailure` is raised (the enforcer answers it
with a 500 in the service's error format).
"""

from __future__ import annotations

import datetime as dt
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crosstrack.errors import CrosstrackError
from crosstrack.iam import (
    Decision,
    Effect,
    Layer,
    MatchedStatement,
    Policy,
    PolicyError,
    PolicyKind,
    Reason,
    Request,
    Verdict,
    evaluate,
    parse_policy,
    rules_for,
)
from crosstrack.local.auth.actions import ContextValue
from crosstrack.local.auth.audit import AuditLog

NamedPolicy = dict[str, Any]
#: What :class:`Decider` calls: :func:`crosstrack.iam.evaluate` unless a test swaps it.
Engine = Callable[..., Decision]


def load_engine() -> Engine:
    """The engine the emulator decides with."""
    return evaluate


class InvalidPolicy(Exception):
    """A stored policy the engine refuses; carries which one (for the audit entry)."""

    def __init__(self, name: str, error: PolicyError) -> None:
        super().__init__(f"the policy {name!r} is invalid: {error}")
        self.name = name


class EngineFailure(CrosstrackError):
    """The engine raised something other than PolicyError: a bug, answered with a 500."""


@dataclass(frozen=True)
class Question:
    """One authorization question: may ``principal`` do ``action`` on ``resource``?"""

    principal: str  # an IAM ARN or a service principal such as lambda.amazonaws.com
    action: str
    resource: str
    resource_account: str | None
    context: Mapping[str, ContextValue]
    principal_arn: str | None = None
    identity_policies: list[NamedPolicy] = field(default_factory=list)
    permission_boundary: NamedPolicy | None = None
    session_policy: NamedPolicy | None = None
    resource_policy: NamedPolicy | None = None

    # The principal's account and session name are parts of its ARN
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns:
    # arn:aws:sts::<account>:assumed-role/<role>/<session>); a service principal has neither.
    @property
    def account(self) -> str | None:
        parts = self.principal.split(":", 5)
        return (parts[4] or None) if len(parts) == 6 else None

    @property
    def session_name(self) -> str | None:
        parts = self.principal.split(":", 5)
        if len(parts) != 6 or parts[2] != "sts" or not parts[5].startswith("assumed-role/"):
            return None
        return parts[5].split("/", 2)[-1]

    def request(self) -> Request:
        context: Any = dict(self.context)  # as simulate() hands it in: the engine normalises
        return Request(
            self.principal,
            self.action,
            self.resource,
            self.principal_arn or None,
            self.resource_account or None,
            context,
        )


def _compiled(named: NamedPolicy, kind: PolicyKind, layer: str) -> Policy:
    """The compiled policy (parse_policy caches by content); InvalidPolicy names which one."""
    name = named.get("name")
    try:
        return parse_policy(named["document"], kind, name=name)
    except PolicyError as exc:
        raise InvalidPolicy(str(name or layer), exc) from None


def _decide(engine: Engine, question: Question) -> Decision:
    request = question.request()
    resource_policy = question.resource_policy
    return engine(
        request,
        identity_policies=[
            _compiled(p, PolicyKind.IDENTITY, "identity_policies")
            for p in question.identity_policies
        ],
        permission_boundary=None
        if question.permission_boundary is None
        else _compiled(question.permission_boundary, PolicyKind.BOUNDARY, "permission_boundary"),
        session_policy=None
        if question.session_policy is None
        else _compiled(question.session_policy, PolicyKind.SESSION, "session_policy"),
        resource_policy=None
        if resource_policy is None
        else _compiled(
            resource_policy,
            rules_for(question.action).policy_kind(question.action),
            "resource_policy",
        ),
    )


def without_engine(
    question: Question,
    verdict: Verdict,
    explanation: str,
    *,
    decided_by: Layer | None = None,
    reasons: Sequence[Reason] = (),
) -> Decision:
    """A decision made without evaluating policies (no role to assume, nothing to check,
    an invalid policy), in the engine's type, with its own one-sentence explanation."""
    decision = Decision(
        decision=verdict,
        decided_by=decided_by,
        matched=(),
        missing_allow=(decided_by,) if decided_by and verdict is not Verdict.ALLOWED else (),
        reasons=tuple(reasons),
        principal=question.principal,
        caller=question.principal,
        action=question.action,
        resource=question.resource,
        resource_account=question.resource_account,
        resource_policy_label="the resource policy",
        trust=False,
        scp_levels_failing=None,
        rcp_levels_failing=None,
    )
    # ``explanation`` is a cached_property: filling its cache gives this decision its own
    # sentence (the engine renders one from ``reasons`` only when asked).
    decision.__dict__["explanation"] = explanation
    return decision


def from_entry(entry: Mapping[str, Any]) -> Decision | None:
    """The decision an audit entry recorded (None for a request rejected before any policy
    was read), typed again: readers of the log (the demo's chain table) use the same
    :class:`~crosstrack.iam.Decision` as the emulator, never its string form."""
    if entry.get("decision") not in _VERDICTS:
        return None
    decided_by = entry.get("decided_by")
    decision = Decision(
        decision=Verdict(entry["decision"]),
        decided_by=Layer(decided_by) if decided_by else None,
        matched=tuple(
            MatchedStatement(
                Layer(m["layer"]), m["policy"], m["statement"], m.get("sid"), Effect(m["effect"])
            )
            for m in entry.get("matched") or ()
        ),
        missing_allow=tuple(Layer(layer) for layer in entry.get("missing_allow") or ()),
        reasons=(),
        principal=str(entry.get("principal_arn") or entry.get("principal") or ""),
        caller=str(entry.get("principal") or ""),
        action=str(entry.get("action") or ""),
        resource=str(entry.get("resource") or ""),
        resource_account=entry.get("resource_account"),
        resource_policy_label="the resource policy",
        trust=False,
        scp_levels_failing=None,
        rcp_levels_failing=None,
    )
    decision.__dict__["explanation"] = str(entry.get("explanation") or "")  # as audited
    return decision


_VERDICTS = frozenset(v.value for v in Verdict)


def deciding_statement(decision: Decision) -> MatchedStatement | None:
    """The statement that made the decision: the Deny that won, or the Allow that counted."""
    if decision.decision is Verdict.IMPLICIT_DENY:
        return None
    effect = "Deny" if decision.decision is Verdict.EXPLICIT_DENY else "Allow"
    candidates = [m for m in decision.matched if m.effect.value == effect]
    in_layer = [m for m in candidates if m.layer is decision.decided_by]
    chosen = in_layer or candidates
    return chosen[0] if chosen else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Decider:
    """Asks the engine and audits every answer. Thread-safe (the audit log locks)."""

    def __init__(
        self,
        audit: AuditLog,
        *,
        engine: Engine | None = None,
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        self.audit = audit
        self.engine = engine or load_engine()
        self.clock = clock

    def ask(
        self, question: Question, *, via: str, request_id: str, note: str | None = None
    ) -> Decision:
        invalid: str | None = None
        try:
            decision = _decide(self.engine, question)
        except (InvalidPolicy, PolicyError) as exc:  # fail closed, say which policy
            invalid = exc.name if isinstance(exc, InvalidPolicy) else None
            decision = without_engine(
                question,
                Verdict.IMPLICIT_DENY,
                f"the engine could not evaluate the request: {exc}",
            )
        except Exception as exc:
            # Not a policy problem: a bug of the engine or the emulator. Say so loudly.
            print(
                f"crosstrack local AWS: internal error deciding {question.action} on "
                f"{question.resource} (request {request_id}):",
                file=sys.stderr,
            )
            traceback.print_exc(file=sys.stderr)
            raise EngineFailure(f"internal error deciding {question.action}: {exc}") from exc
        self.record(
            question,
            decision,
            via=via,
            request_id=request_id,
            note=note,
            invalid_policy=invalid,
        )
        return decision

    def refuse(
        self,
        question: Question,
        *,
        explanation: str,
        decided_by: Layer | None,
        via: str,
        request_id: str,
    ) -> Decision:
        """An implicit deny decided without the engine (e.g. the role does not exist)."""
        decision = without_engine(
            question,
            Verdict.IMPLICIT_DENY,
            explanation,
            decided_by=decided_by,
            reasons=(Reason.NO_ALLOW,),
        )
        self.record(question, decision, via=via, request_id=request_id)
        return decision

    def refuse_missing_role(self, question: Question, *, via: str, request_id: str) -> Decision:
        """sts:AssumeRole of a role that does not exist (``question.resource``): AWS resolves
        the ARN in the role's own account, and a missing role can be assumed by nobody."""
        return self.refuse(
            question,
            explanation=f"the role {question.resource} does not exist, so nothing can assume it",
            decided_by=Layer.RESOURCE_POLICY,
            via=via,
            request_id=request_id,
        )

    def allow_without_check(
        self, question: Question, *, explanation: str, via: str, request_id: str
    ) -> Decision:
        """Audit an action that needs no permission (sts:GetCallerIdentity)."""
        decision = without_engine(question, Verdict.ALLOWED, explanation)
        self.record(question, decision, via=via, request_id=request_id)
        return decision

    def record(
        self,
        question: Question,
        decision: Decision,
        *,
        via: str,
        request_id: str,
        note: str | None = None,
        invalid_policy: str | None = None,
    ) -> None:
        statement = deciding_statement(decision)
        entry: dict[str, Any] = {
            "time": self.clock().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "request_id": request_id,
            "via": via,
            "principal": question.principal,
            "principal_arn": question.principal_arn,
            "account": question.account,
            "session_name": question.session_name,
            "action": question.action,
            "resource": question.resource,
            "resource_account": question.resource_account,
            "decision": decision.decision.value,
            "decided_by": decision.decided_by.value if decision.decided_by else None,
            "policy": statement.policy if statement else None,
            "statement": statement.statement if statement else None,
            "sid": statement.sid if statement else None,
            "matched": [m.as_dict() for m in decision.matched],
            "missing_allow": [layer.value for layer in decision.missing_allow],
            # rendered here, once per audited decision (never on the engine's hot path)
            "explanation": decision.explanation,
        }
        if invalid_policy is not None:
            entry["invalid_policy"] = invalid_policy
        for key in ("aws:SecureTransport", "aws:SourceIp", "aws:SourceAccount", "aws:SourceArn"):
            if key in question.context:
                entry[key] = question.context[key]
        if note:
            entry["note"] = note
        self.audit.append(entry)

    def reject(self, *, request_id: str, via: str, reason: str, detail: dict[str, Any]) -> None:
        """Audit a request refused before any policy was read (bad key, bad signature…)."""
        entry: dict[str, Any] = {
            "time": self.clock().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "request_id": request_id,
            "via": via,
            "decision": "rejected",
            "reason": reason,
        }
        entry.update(detail)
        self.audit.append(entry)
