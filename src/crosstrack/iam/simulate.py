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

import marshal
from collections.abc import Mapping, Sequence
from threading import Lock
from typing import Any

from crosstrack.iam.errors import PolicyError, show
from crosstrack.iam.evaluate import Layers, evaluate_fields
from crosstrack.iam.explain import result
from crosstrack.iam.model import Decision, Policy, PolicyKind
from crosstrack.iam.parse import clear_cache as clear_policy_cache
from crosstrack.iam.parse import parse_policy
from crosstrack.iam.services import policy_kind_for

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
    return result(decide(case))


def decide(case: Mapping[str, Any], *, trace: bool = False) -> Decision:
    """Like :func:`simulate`, returning the typed :class:`Decision` (``trace`` for --explain)."""
    if not _is_mapping(case):
        raise PolicyError("$", "a case must be a JSON object")
    if not _CASE_KEYS.issuperset(case):
        for key in case:
            if key not in _CASE_KEYS:
                known = ", ".join(sorted(_CASE_KEYS))
                raise PolicyError(f"$.{key}", f"unknown case key {show(key)} (known: {known})")
    who, account, context = _request(case.get("request"))
    action = who[2]
    resource_kind = policy_kind_for(action)
    return evaluate_fields(who, account, context, _layers(case, resource_kind), trace=trace)


# A case's policies, validated and compiled, keyed by the marshal bytes of all of them at once
# (with the resource policy's kind, which the action decides). One marshal call and one lookup
# replace a validation, a marshal call and a lookup per policy: the emulator and the benchmark
# hand the same policies in again and again. Exact for the reason parse.py's cache is (marshal
# takes only built-in types; equal bytes load back to equal data); the compiled values keep no
# reference to the caller's (mutable) documents. Anything marshal refuses takes the long way.
_LAYERS: dict[tuple[str, bytes], Layers] = {}
_LAYERS_LIMIT = 1024
_LAYERS_LOCK = Lock()


def _layers(case: Mapping[str, Any], resource_kind: PolicyKind) -> Layers:
    get = case.get
    raw = (
        get("identity_policies"),
        get("permission_boundary"),
        get("session_policy"),
        get("resource_policy"),
        get("scps"),
        get("rcps"),
    )
    try:
        # the kind's value: an Enum member hashes through a Python-level __hash__
        key = (resource_kind._value_, marshal.dumps(raw))
    except ValueError:  # not built-in types only, or nested past marshal's limit
        return _compile_layers(raw, resource_kind)
    found = _LAYERS.get(key)
    if found is None:
        found = _compile_layers(raw, resource_kind)  # raises PolicyError: nothing cached
        with _LAYERS_LOCK:
            if len(_LAYERS) >= _LAYERS_LIMIT:
                _LAYERS.clear()
            _LAYERS[key] = found
    return found


def _compile_layers(raw: tuple[Any, ...], resource_kind: PolicyKind) -> Layers:
    identity, boundary, session, resource, scps, rcps = raw
    return (
        _policy_list(identity, "$.identity_policies", PolicyKind.IDENTITY),
        _maybe_policy(boundary, "$.permission_boundary", PolicyKind.BOUNDARY),
        _maybe_policy(session, "$.session_policy", PolicyKind.SESSION),
        _maybe_policy(resource, "$.resource_policy", resource_kind),
        _levels(scps, "$.scps", PolicyKind.SCP),
        _levels(rcps, "$.rcps", PolicyKind.RCP),
    )


def clear_cache() -> None:
    """Forget every compiled policy and case (for tests and benchmarks)."""
    with _LAYERS_LOCK:
        _LAYERS.clear()
    clear_policy_cache()


def _request(raw: Any) -> tuple[tuple[str, str | None, str, str], object, object]:
    """The request's fields, validated: ((principal, principal_arn, action, resource),
    resource_account, context) as :func:`evaluate_fields` takes them (no :class:`Request` is
    built: its frozen fields cost more to set than the rest of this check)."""
    if raw is None:
        raise PolicyError("$.request", "missing: a case needs a request")
    if not _is_mapping(raw):
        raise PolicyError("$.request", "must be an object")
    if not _REQUEST_KEYS.issuperset(raw):
        for key in raw:
            if key not in _REQUEST_KEYS:
                raise PolicyError(f"$.request.{key}", f"unknown request key {show(key)}")
    get = raw.get
    principal, action, resource = get("principal"), get("action"), get("resource")
    principal_arn, account = get("principal_arn"), get("resource_account")
    # the usual case in one test, without a call to isinstance
    if not (
        type(principal) is str
        and principal
        and type(action) is str
        and action
        and type(resource) is str
        and resource
        and (principal_arn is None or type(principal_arn) is str)
        and (account is None or type(account) is str)
    ):
        _check_strings(principal, action, resource, principal_arn, account)
    context = get("context") or {}
    if not _is_mapping(context):
        raise PolicyError("$.request.context", "must be an object of key -> string or list")
    return (principal, principal_arn, action, resource), account, context


def _check_strings(*values: object) -> None:
    """Raise for the first of the request's string fields that is not one (str subclasses
    pass): principal, action and resource are required, principal_arn and resource_account
    optional."""
    for n, (key, value) in enumerate(zip(_STRING_FIELDS, values, strict=True)):
        if n < 3 and (not isinstance(value, str) or not value):
            raise PolicyError(f"$.request.{key}", "required: a non-empty string")
        if value is not None and not isinstance(value, str):
            raise PolicyError(f"$.request.{key}", "must be a string")


_STRING_FIELDS = ("principal", "action", "resource", "principal_arn", "resource_account")


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
