"""The case format of ``crosstrack iam simulate`` and :func:`simulate` (issue 3).

A case::

    {"request": {"principal": ..., "principal_arn": ..., "action": ..., "resource": ...,
                 "resource_account": ..., "context": {...}},
     "identity_policies": [<policy>], "permission_boundary": <policy>|null,
     "session_policy": <policy>|null, "resource_policy": <policy>|null,
     "scps": [[<policy>, ...], ...], "rcps": [[<policy>, ...], ...]}

``<policy>`` is a policy document or ``{"name": "...", "document": {...}}``. The resource
policy is the trust policy for ``sts:AssumeRole``-like actions, else a resource policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crosstrack.iam.errors import PolicyError
from crosstrack.iam.evaluate import evaluate
from crosstrack.iam.model import Decision, Policy, PolicyKind, Request
from crosstrack.iam.parse import parse_policy
from crosstrack.iam.services import rules_for

_CASE_KEYS = frozenset(
    {
        "request",
        "identity_policies",
        "permission_boundary",
        "session_policy",
        "resource_policy",
        "scps",
        "rcps",
    }
)
_REQUEST_KEYS = frozenset(
    {"principal", "principal_arn", "action", "resource", "resource_account", "context"}
)


def _is_mapping(value: object) -> bool:
    """isinstance(value, Mapping), with the common dict answered without the slow ABC check."""
    return type(value) is dict or isinstance(value, Mapping)


def simulate(case: Mapping[str, Any]) -> dict[str, object]:
    """Decide one case; the result is ``{"decision", "decided_by", "matched", "missing_allow",
    "explanation"}``. Raises :class:`PolicyError` (naming the JSON path) on invalid input."""
    return decide(case).as_dict()


def decide(case: Mapping[str, Any], *, trace: bool = False) -> Decision:
    """Like :func:`simulate`, returning the typed :class:`Decision` (``trace`` for --explain)."""
    if not _is_mapping(case):
        raise PolicyError("$", "a case must be a JSON object")
    for key in case:
        if key not in _CASE_KEYS:
            known = ", ".join(sorted(_CASE_KEYS))
            raise PolicyError(f"$.{key}", f"unknown case key {key!r} (known: {known})")
    request = _request(case.get("request"))
    resource_kind = rules_for(request.action).policy_kind(request.action)
    return evaluate(
        request,
        identity_policies=_policy_list(
            case.get("identity_policies"), "$.identity_policies", PolicyKind.IDENTITY
        ),
        permission_boundary=_maybe_policy(
            case.get("permission_boundary"), "$.permission_boundary", PolicyKind.BOUNDARY
        ),
        session_policy=_maybe_policy(
            case.get("session_policy"), "$.session_policy", PolicyKind.SESSION
        ),
        resource_policy=_maybe_policy(
            case.get("resource_policy"), "$.resource_policy", resource_kind
        ),
        scps=_levels(case.get("scps"), "$.scps", PolicyKind.SCP),
        rcps=_levels(case.get("rcps"), "$.rcps", PolicyKind.RCP),
        trace=trace,
    )


def _request(raw: Any) -> Request:
    if raw is None:
        raise PolicyError("$.request", "missing: a case needs a request")
    if not _is_mapping(raw):
        raise PolicyError("$.request", "must be an object")
    for key in raw:
        if key not in _REQUEST_KEYS:
            raise PolicyError(f"$.request.{key}", f"unknown request key {key!r}")
    for key in ("principal", "action", "resource"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise PolicyError(f"$.request.{key}", "required: a non-empty string")
    for key in ("principal_arn", "resource_account"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise PolicyError(f"$.request.{key}", "must be a string")
    context = raw.get("context") or {}
    if not _is_mapping(context):
        raise PolicyError("$.request.context", "must be an object of key -> string or list")
    return Request(
        principal=raw["principal"],
        action=raw["action"],
        resource=raw["resource"],
        principal_arn=raw.get("principal_arn"),
        resource_account=raw.get("resource_account"),
        context=context,
    )


def _policy(raw: Any, path: str, kind: PolicyKind) -> Policy:
    if not _is_mapping(raw):
        raise PolicyError(path, "a policy must be a document or {name, document}")
    name = None
    document = raw
    doc_path = path
    if "document" in raw:
        extra = set(raw) - {"name", "document"}
        if extra:
            raise PolicyError(
                f"{path}.{sorted(extra)[0]}", "a named policy has only name and document"
            )
        name = raw.get("name")
        if name is not None and (not isinstance(name, str) or not name):
            raise PolicyError(f"{path}.name", "must be a non-empty string")
        document = raw["document"]
        doc_path = f"{path}.document"
    try:
        return parse_policy(document, kind, name=name)
    except PolicyError as exc:
        raise exc.under(doc_path) from None


def _maybe_policy(raw: Any, path: str, kind: PolicyKind) -> Policy | None:
    return None if raw is None else _policy(raw, path, kind)


def _policy_list(raw: Any, path: str, kind: PolicyKind) -> list[Policy]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise PolicyError(path, "must be a list of policies")
    return [_policy(item, f"{path}[{i}]", kind) for i, item in enumerate(raw)]


def _levels(raw: Any, path: str, kind: PolicyKind) -> Sequence[Sequence[Policy]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(level, list) for level in raw):
        raise PolicyError(path, "must be a list of levels, each a list of policies")
    for n, level in enumerate(raw):
        if not level:
            # A level with no policy would deny everything; AWS always attaches one
            # (FullAWSAccess / RCPFullAWSAccess), so an empty level is a mistake in the case.
            raise PolicyError(f"{path}[{n}]", "a level needs at least one policy")
    return [_policy_list(level, f"{path}[{n}]", kind) for n, level in enumerate(raw)]
