"""Parsing and validation of policy documents into compiled :class:`Policy` values.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html

Every problem is a :class:`PolicyError` naming the JSON path (``$.Statement[1].Effect``).
Compiled policies are cached by (kind, document), so the emulator can hand the same document
in on every request and pay for compilation once. The key is the document's ``marshal`` bytes
(~0.5 us for a typical policy, a tenth of canonical JSON): marshal accepts only the exact
built-in types, and equal bytes load back to equal data, so two different documents never
share a key. A document marshal refuses (a Mapping that is not a dict, a str subclass...) is
keyed by its canonical JSON instead, as before.
"""

from __future__ import annotations

import json
import marshal
import re
from collections.abc import Mapping
from dataclasses import replace
from threading import Lock
from typing import Any

from crosstrack.iam.conditions import ConditionEntry, compile_block
from crosstrack.iam.errors import PolicyError, show
from crosstrack.iam.model import Effect, Policy, PolicyKind, Statement
from crosstrack.iam.principals import PrincipalSet, compile_principal
from crosstrack.iam.variables import Template, parse_template
from crosstrack.iam.wildcards import compile_action_set, compile_resource_set

# Version 2012-10-17 brought policy variables; older documents (and those without a Version)
# treat ${...} as literal text (reference_policies_elements_version.html).
VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"
_VERSIONS = (VERSION_2012, VERSION_2008)

_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
# service prefix ":" action name, wildcards allowed in both
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html)
_ACTION = re.compile(r"^[A-Za-z0-9*?-]+:[A-Za-z0-9*?_.-]+$")
_WITH_PRINCIPAL = frozenset({PolicyKind.RESOURCE, PolicyKind.TRUST, PolicyKind.RCP})

_TOO_DEEP = "nested too deeply (no valid policy nests more than a few levels)"

_CACHE: dict[tuple[PolicyKind, bytes | str], Policy] = {}
_CACHE_LIMIT = 4096
_CACHE_LOCK = Lock()


def parse_policy(
    document: Mapping[str, Any] | str,
    kind: PolicyKind | str = PolicyKind.IDENTITY,
    *,
    name: str | None = None,
    cache: bool = True,
) -> Policy:
    """Validate and compile one policy document (a mapping or its JSON text).

    ``kind`` decides which elements are valid: ``Principal``/``NotPrincipal`` only in
    resource, trust and RCP documents; ``Resource`` optional only in trust policies.
    Raises :class:`PolicyError` naming the JSON path of the first problem found.
    """
    kind = _kind(kind)
    if type(document) is not dict and isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise PolicyError("$", f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
        except RecursionError:
            raise PolicyError("$", _TOO_DEEP) from None
    if type(document) is not dict and not isinstance(document, Mapping):
        raise PolicyError("$", "a policy document must be a JSON object")
    if not cache:
        policy = _compile(document, kind)
    else:
        key = (kind, _cache_key(document))
        policy_or_none = _CACHE.get(key)
        if policy_or_none is None:
            policy_or_none = _compile(document, kind)
            with _CACHE_LOCK:
                if len(_CACHE) >= _CACHE_LIMIT:
                    _CACHE.clear()
                _CACHE[key] = policy_or_none
        policy = policy_or_none
    return policy if name is None or name == policy.name else replace(policy, name=name)


def _cache_key(document: Mapping[str, Any]) -> bytes | str:
    try:
        return marshal.dumps(document)  # type: ignore[arg-type]  # refused below if not
    except ValueError:
        pass
    try:
        return json.dumps(document, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise PolicyError("$", f"not JSON data: {exc}") from None
    except RecursionError:
        # marshal refuses data nested over 2,000 deep (ValueError), json.dumps then recurses
        raise PolicyError("$", _TOO_DEEP) from None


def clear_cache() -> None:
    """Forget every compiled policy (for tests and benchmarks)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _kind(kind: PolicyKind | str) -> PolicyKind:
    if isinstance(kind, PolicyKind):
        return kind
    try:
        return PolicyKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in PolicyKind)
        raise PolicyError("$", f"unknown policy kind {show(kind)} (one of {known})") from None


def _compile(document: Mapping[str, Any], kind: PolicyKind) -> Policy:
    for key in document:
        if key not in _TOP_KEYS:
            raise PolicyError(
                f"$.{key}", f"unknown element {show(key)} (expected Version, Id, Statement)"
            )
    version = document.get("Version", VERSION_2008)
    if version not in _VERSIONS:
        raise PolicyError(
            "$.Version", f"unknown Version {show(version)} (use {show(VERSION_2012)})"
        )
    policy_id = document.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise PolicyError("$.Id", "Id must be a string")
    if "Statement" not in document:
        raise PolicyError("$", "missing Statement")
    raw = document["Statement"]
    if isinstance(raw, Mapping):
        raw_statements: list[Any] = [raw]
        paths = ["$.Statement"]
    elif isinstance(raw, list):
        if not raw:
            raise PolicyError("$.Statement", "Statement must hold at least one statement")
        raw_statements = raw
        paths = [f"$.Statement[{i}]" for i in range(len(raw))]
    else:
        raise PolicyError("$.Statement", "Statement must be an object or a list of objects")
    statements = []
    sids: set[str] = set()
    for index, (item, path) in enumerate(zip(raw_statements, paths, strict=True)):
        statement = _statement(item, index, path, kind, variables=version == VERSION_2012)
        if statement.sid is not None:
            # "the Sid value must be unique within a JSON policy"
            # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html)
            if statement.sid in sids:
                raise PolicyError(f"{path}.Sid", f"duplicate Sid {show(statement.sid)}")
            sids.add(statement.sid)
        statements.append(statement)
    return Policy(kind=kind, version=version, statements=tuple(statements), id=policy_id)


def _strings(value: Any, path: str, element: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise PolicyError(path, f"{element} must not be empty")
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item:
            where = f"{path}[{i}]" if isinstance(value, list) else path
            raise PolicyError(
                where, f"{element} entries must be non-empty strings, not {show(item)}"
            )
    return tuple(items)


def _one_of(item: Mapping[str, Any], a: str, b: str, path: str) -> str | None:
    if a in item and b in item:
        raise PolicyError(path, f"a statement cannot have both {a} and {b}")
    return a if a in item else b if b in item else None


def _where(item: Mapping[str, Any], path: str, key: str, i: int) -> str:
    return f"{path}.{key}[{i}]" if isinstance(item[key], list) else f"{path}.{key}"


def _statement(item: Any, index: int, path: str, kind: PolicyKind, *, variables: bool) -> Statement:
    if not isinstance(item, Mapping):
        raise PolicyError(path, "a statement must be a JSON object")
    for key in item:
        if key not in _STATEMENT_KEYS:
            raise PolicyError(f"{path}.{key}", f"unknown element {show(key)}")
    sid = item.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{path}.Sid", "Sid must be a string")
    effect_text = item.get("Effect")
    if effect_text not in ("Allow", "Deny"):
        raise PolicyError(
            f"{path}.Effect", f"Effect must be 'Allow' or 'Deny', not {show(effect_text)}"
        )
    action_key, actions = _actions(item, path)
    resource_key, resources = _resources(item, path, kind, variables=variables)
    principal_key, principals = _principals(item, path, kind)
    conditions: tuple[ConditionEntry, ...] = ()
    if "Condition" in item:
        conditions = compile_block(item["Condition"], variables=variables, path=f"{path}.Condition")
    patterns = tuple(r for r in resources or () if isinstance(r, str))
    return Statement(
        index=index,
        sid=sid,
        effect=Effect(effect_text),
        actions=compile_action_set(actions),
        not_action=action_key == "NotAction",
        resources=resources,
        resource_matcher=compile_resource_set(patterns) if patterns else _no_resource,
        resource_templates=tuple(r for r in resources or () if isinstance(r, Template)),
        not_resource=resource_key == "NotResource",
        principals=principals,
        not_principal=principal_key == "NotPrincipal",
        conditions=conditions,
    )


def _no_resource(_resource: str) -> bool:
    return False


def _actions(item: Mapping[str, Any], path: str) -> tuple[str, tuple[str, ...]]:
    key = _one_of(item, "Action", "NotAction", path)
    if key is None:
        raise PolicyError(path, "a statement needs Action or NotAction")
    actions = _strings(item[key], f"{path}.{key}", key)
    for i, action in enumerate(actions):
        if action != "*" and not _ACTION.match(action):
            raise PolicyError(
                _where(item, path, key, i),
                f"malformed action {show(action)} (expected service:action)",
            )
    return key, actions


def _resources(
    item: Mapping[str, Any], path: str, kind: PolicyKind, *, variables: bool
) -> tuple[str | None, tuple[str | Template, ...] | None]:
    key = _one_of(item, "Resource", "NotResource", path)
    if key is None:
        if kind is not PolicyKind.TRUST:
            raise PolicyError(
                path, f"a statement in a {kind.value} policy needs Resource or NotResource"
            )
        return None, None
    compiled: list[str | Template] = []
    for i, resource in enumerate(_strings(item[key], f"{path}.{key}", key)):
        where = _where(item, path, key, i)
        if resource != "*" and (not resource.startswith("arn:") or resource.count(":") < 5):
            raise PolicyError(
                where,
                f"malformed ARN {show(resource)} "
                "(expected arn:partition:service:region:account:resource or *)",
            )
        service = resource.split(":", 3)[2] if resource != "*" else ""
        if "*" in service or "?" in service:
            # "You can't use a wildcard in the service segment that identifies the AWS
            # product." (reference_policies_elements_resource.html, "Using wildcards in
            # resource ARNs")
            raise PolicyError(
                where, f"malformed ARN {show(resource)}: no wildcard in the service segment"
            )
        compiled.append(parse_template(resource, where) if variables else resource)
    return key, tuple(compiled)


def _principals(
    item: Mapping[str, Any], path: str, kind: PolicyKind
) -> tuple[str | None, PrincipalSet | None]:
    key = _one_of(item, "Principal", "NotPrincipal", path)
    if key == "NotPrincipal" and kind is PolicyKind.TRUST:
        # "You cannot use the NotPrincipal element in an IAM identity-based policy nor in an
        # IAM role trust policy." (reference_policies_elements_notprincipal.html)
        raise PolicyError(f"{path}.{key}", "NotPrincipal is not allowed in a role trust policy")
    if key == "NotPrincipal" and kind in _WITH_PRINCIPAL and item.get("Effect") != "Deny":
        # 'NotPrincipal must be used with "Effect":"Deny". Using it with "Effect":"Allow" is
        # not supported.' (reference_policies_elements_notprincipal.html)
        raise PolicyError(f"{path}.{key}", 'NotPrincipal must be used with "Effect": "Deny"')
    if kind not in _WITH_PRINCIPAL:
        if key is not None:
            raise PolicyError(
                f"{path}.{key}",
                f"{key} is not allowed in a {kind.value} policy (only in resource-based policies)",
            )
        return None, None
    if key is None:
        raise PolicyError(
            path, f"a statement in a {kind.value} policy needs Principal or NotPrincipal"
        )
    principals = compile_principal(item[key], f"{path}.{key}")
    if kind is PolicyKind.RCP and (key != "Principal" or not principals.anyone):
        # RCPs only take "Principal": "*"
        # (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html).
        raise PolicyError(f"{path}.{key}", 'an RCP statement must use "Principal": "*"')
    return key, principals
