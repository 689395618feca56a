"""Asking the IAM engine one question and recording the answer in the audit log.

Every decision the local AWS makes goes through :meth:`Decider.ask`: the request is
turned into a case of ``crosstrack.iam.simulate`` (the engine the doctor uses too, so the
emulator and the diagnosis can never disagree) and the verdict is appended to the audit
log with the layer and statement that decided it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crosstrack.local.auth.actions import ContextValue
from crosstrack.local.auth.audit import AuditLog
from crosstrack.local.errors import MissingDependencyError

Simulate = Callable[[Mapping[str, Any]], dict[str, Any]]
NamedPolicy = dict[str, Any]

ALLOWED = "allowed"
EXPLICIT_DENY = "explicitDeny"
IMPLICIT_DENY = "implicitDeny"


def load_engine() -> Simulate:
    """``crosstrack.iam.simulate``, imported when the first decision is needed."""
    try:
        from crosstrack.iam import simulate
    except ImportError as exc:
        raise MissingDependencyError(
            f"the IAM engine crosstrack.iam.simulate is not importable ({exc}); "
            "the local AWS cannot decide requests without it"
        ) from exc
    return simulate


@dataclass(frozen=True)
class Question:
    """One authorization question: may ``principal`` do ``action`` on ``resource``?"""

    principal: str  # an IAM ARN or a service principal such as lambda.amazonaws.com
    action: str
    resource: str
    resource_account: str | None
    context: Mapping[str, ContextValue]
    principal_arn: str | None = None
    account: str | None = None
    session_name: str | None = None
    identity_policies: list[NamedPolicy] = field(default_factory=list)
    permission_boundary: NamedPolicy | None = None
    session_policy: NamedPolicy | None = None
    resource_policy: NamedPolicy | None = None

    def case(self) -> dict[str, Any]:
        request: dict[str, Any] = {
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "context": dict(self.context),
        }
        if self.principal_arn:
            request["principal_arn"] = self.principal_arn
        if self.resource_account:
            request["resource_account"] = self.resource_account
        return {
            "request": request,
            "identity_policies": list(self.identity_policies),
            "permission_boundary": self.permission_boundary,
            "session_policy": self.session_policy,
            "resource_policy": self.resource_policy,
        }


@dataclass(frozen=True)
class Verdict:
    """The engine's answer, in its own vocabulary (IAM's simulator's)."""

    decision: str
    decided_by: str | None
    matched: list[dict[str, Any]]
    missing_allow: list[str]
    explanation: str

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOWED

    def deciding_statement(self) -> dict[str, Any] | None:
        """The statement that made the decision: the Deny that won, or the Allow that counted."""
        if self.decision == IMPLICIT_DENY:
            return None
        effect = "Deny" if self.decision == EXPLICIT_DENY else "Allow"
        candidates = [m for m in self.matched if m.get("effect") == effect]
        in_layer = [m for m in candidates if m.get("layer") == self.decided_by]
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
        engine: Simulate | None = None,
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        self.audit = audit
        self._engine = engine
        self.clock = clock

    def engine(self) -> Simulate:
        if self._engine is None:
            self._engine = load_engine()
        return self._engine

    def ask(
        self, question: Question, *, via: str, request_id: str, note: str | None = None
    ) -> Verdict:
        try:
            result = self.engine()(question.case())
            verdict = Verdict(
                decision=str(result["decision"]),
                decided_by=result.get("decided_by"),
                matched=list(result.get("matched") or []),
                missing_allow=list(result.get("missing_allow") or []),
                explanation=str(result.get("explanation") or ""),
            )
        except MissingDependencyError:
            raise
        except Exception as exc:  # an invalid stored policy: fail closed, say why
            verdict = Verdict(
                decision=IMPLICIT_DENY,
                decided_by=None,
                matched=[],
                missing_allow=[],
                explanation=f"the engine could not evaluate the request: {exc}",
            )
        self.record(question, verdict, via=via, request_id=request_id, note=note)
        return verdict

    def refuse(
        self,
        question: Question,
        *,
        explanation: str,
        decided_by: str | None,
        via: str,
        request_id: str,
    ) -> Verdict:
        """An implicit deny decided without the engine (e.g. the role does not exist)."""
        verdict = Verdict(
            IMPLICIT_DENY, decided_by, [], [decided_by] if decided_by else [], explanation
        )
        self.record(question, verdict, via=via, request_id=request_id)
        return verdict

    def record(
        self,
        question: Question,
        verdict: Verdict,
        *,
        via: str,
        request_id: str,
        note: str | None = None,
    ) -> None:
        statement = verdict.deciding_statement()
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
            "decision": verdict.decision,
            "decided_by": verdict.decided_by,
            "policy": statement.get("policy") if statement else None,
            "statement": statement.get("statement") if statement else None,
            "sid": statement.get("sid") if statement else None,
            "matched": verdict.matched,
            "missing_allow": verdict.missing_allow,
            "explanation": verdict.explanation,
        }
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
