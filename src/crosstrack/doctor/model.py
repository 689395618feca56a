"""The doctor's values: what was read about a deployment (one model whatever the source),
and the rows a diagnosis prints.

A piece of state that could not be read is not None-and-forgotten: every state object keeps
``unreadable``, a map from the part ("trust", "policies", "policy"...) to the reason (the
permission that was denied, or "known only after apply"), so that the rows needing that part
say ``unknown`` and why, instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from crosstrack.errors import CrosstrackError, InputError

Document = Mapping[str, Any]

# C0/C1 controls (ESC starts terminal escape sequences; XML 1.0 forbids most of them) and bidi
# overrides: names, ARNs and pasted text are printed to a terminal and drawn into SVG/Mermaid,
# so these are shown as \xNN / \uNNNN instead.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with unprintable characters escaped (see _UNPRINTABLE)."""
    return _UNPRINTABLE.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 256 else f"\\u{ord(m[0]):04x}", text
    )


class DoctorError(CrosstrackError):
    """The doctor could not run at all (no credentials, nothing deployed to diagnose)."""


class DoctorInputError(InputError):
    """A file, flag or pasted text the doctor was given cannot be used (exit 2)."""


class Verdict(Enum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    WARN = "warn"
    UNKNOWN = "unknown"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]


_SYMBOLS = {Verdict.PASS: "✓", Verdict.FAIL: "✗", Verdict.WARN: "!", Verdict.UNKNOWN: "?"}


@dataclass(frozen=True)
class StatementRef:
    """The statement that decided a row (``index`` None: a whole policy is meant)."""

    policy: str
    index: int | None
    sid: str | None

    def as_dict(self) -> dict[str, object]:
        return {"policy": self.policy, "index": self.index, "sid": self.sid}

    def __str__(self) -> str:
        where = "" if self.index is None else f" #{self.index}"
        return f"{self.policy}{where}" + (f" [{self.sid}]" if self.sid else "")


@dataclass(frozen=True)
class Row:
    """One check. ``id`` is stable across runs ("2.assume", "5.kms"); ``link`` is design.md's
    link number (0-5) or None for checks outside the chain (warnings about the deploy role)."""

    id: str
    link: int | None
    verdict: Verdict
    principal: str
    action: str
    resource: str
    statement: StatementRef | None
    evidence: str
    fix: str

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "link": self.link,
            "verdict": self.verdict.value,
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "statement": None if self.statement is None else self.statement.as_dict(),
            "evidence": self.evidence,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class NamedPolicy:
    """A policy document with the name rows print and the Terraform address that owns it."""

    name: str
    document: Document
    address: str = ""


@dataclass
class RoleState:
    arn: str
    address: str  # the Terraform resource of the role ("module.source.aws_iam_role.execution")
    unique_id: str | None = None
    trust: Document | None = None
    inline: list[NamedPolicy] = field(default_factory=list)
    attached: list[NamedPolicy] = field(default_factory=list)
    boundary: NamedPolicy | None = None
    max_session_seconds: int | None = None
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def identity_policies(self) -> list[NamedPolicy]:
        return [*self.inline, *self.attached]


@dataclass
class BucketState:
    name: str
    account: str
    policy: Document | None = None  # None: the bucket has no policy (when readable)
    sse_algorithm: str | None = None  # "AES256", "aws:kms", "aws:kms:dsse"
    kms_key_id: str | None = None  # key ARN, key id or alias, as the bucket names it
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"


@dataclass
class KeyState:
    arn: str
    policy: Document | None = None
    unreadable: dict[str, str] = field(default_factory=dict)


@dataclass
class FunctionState:
    name: str
    arn: str
    role_arn: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    resource_policy: Document | None = None
    unreadable: dict[str, str] = field(default_factory=dict)


@dataclass
class ScheduleState:
    name: str
    arn: str
    role_arn: str | None = None
    target_arn: str | None = None
    enabled: bool = True
    unreadable: dict[str, str] = field(default_factory=dict)


@dataclass
class State:
    """Everything the diagnosis reads, from live AWS, the local AWS or a Terraform plan."""

    source: str  # "live", "local" or "plan"
    region: str
    account_a: str
    account_b: str
    function: FunctionState
    role_a: RoleState
    role_b: RoleState
    bucket: BucketState
    schedule: ScheduleState | None = None
    schedule_role: RoleState | None = None
    key: KeyState | None = None
    deploy_role: RoleState | None = None
    # aws:PrincipalOrgID per account, when known (None: not in an organization or unknown)
    org_ids: dict[str, str | None] = field(default_factory=dict)
    object_key: str = "iss_position.txt"
    log_layout: str = "single"
    # What the reporter asks of STS (reporter/session.py)
    session_seconds: int = 3600
    session_tags: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
