"""crosstrack's IAM policy engine: AWS's evaluation logic in pure Python (no boto3, no I/O).

Two faces:

* the case API of issue 3 — :func:`simulate` (a case mapping in, a result dict out) and
  :func:`decide` (the same, returning a typed :class:`Decision`);
* the typed hot-path API for the local AWS emulator — :func:`parse_policy` (validated,
  compiled and cached by the document's canonical JSON), :class:`Request` and
  :func:`evaluate` returning a :class:`Decision` (:func:`rules_for` tells which kind of
  resource policy an action's resource has: trust policy for ``sts:AssumeRole``...).

Every invalid document or request raises :class:`PolicyError`, whose ``path`` names the JSON
location of the problem. See docs/iam.md for the supported surface.
"""

from __future__ import annotations

from crosstrack.iam.conditions import OPERATORS
from crosstrack.iam.errors import PolicyError
from crosstrack.iam.evaluate import evaluate
from crosstrack.iam.explain import render, trace_lines
from crosstrack.iam.model import (
    Decision,
    Effect,
    Layer,
    MatchedStatement,
    Outcome,
    Policy,
    PolicyKind,
    Reason,
    Request,
    StatementTrace,
    Verdict,
)
from crosstrack.iam.parse import parse_policy
from crosstrack.iam.services import rules_for
from crosstrack.iam.simulate import clear_cache, decide, simulate

__all__ = [
    "OPERATORS",
    "Decision",
    "Effect",
    "Layer",
    "MatchedStatement",
    "Outcome",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "Reason",
    "Request",
    "StatementTrace",
    "Verdict",
    "clear_cache",
    "decide",
    "evaluate",
    "parse_policy",
    "render",
    "rules_for",
    "simulate",
    "trace_lines",
]
