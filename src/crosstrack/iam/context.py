"""The request, normalised once per evaluation: action rules, resource account, context keys.

Everything here is cached by the request's strings (actions, callers and accounts repeat), so
the emulator's hot path pays for validation once per distinct value, not once per request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import repeat

from crosstrack.iam.errors import PolicyError, show
from crosstrack.iam.model import Policy
from crosstrack.iam.principals import Caller, PrincipalKind, parse_caller
from crosstrack.iam.services import ServiceRules, rules_for

_ACTION = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9_.-]+$")
_ACCOUNT = re.compile(r"^\d{12}$")
_SERVICE = PrincipalKind.SERVICE
_ROOT = PrincipalKind.ROOT


@lru_cache(maxsize=1024)
def action_rules(action: str) -> tuple[str, ServiceRules, bool]:
    """(lower-cased action, its service's rules, whether the resource policy must allow).

    Cached by action name: a small vocabulary, and validating it needs a regex.
    """
    if not _ACTION.match(action):
        raise PolicyError("$.request.action", f"expected service:Action, not {show(action)}")
    rules = rules_for(action)
    return action.lower(), rules, rules.requires_resource_allow(action)


def resource_account(resource: str, given: object) -> str:
    """The account that owns ``resource``: ``given`` (the request's ``resource_account``) or
    the account in the ARN; both, when present, must agree."""
    if given is not None and (not isinstance(given, str) or not _is_account(given)):
        raise PolicyError(
            "$.request.resource_account", f"expected a 12-digit account id, not {show(given)}"
        )
    in_arn = _arn_account(resource)
    if given and in_arn and given != in_arn:
        raise PolicyError(
            "$.request.resource_account",
            f"{given} contradicts the account {in_arn} in the resource ARN",
        )
    account = given or in_arn
    if account is None:
        raise PolicyError(
            "$.request.resource_account",
            f"required: the resource {show(resource)} carries no account (S3 bucket ARNs never do)",
        )
    return account


@lru_cache(maxsize=4096)
def _arn_account(resource: str) -> str | None:
    """The 12-digit account id in an ARN's fifth field, if any (cached by ARN: a request's
    resource is one of a working set, and splitting it allocates seven objects)."""
    parts = resource.split(":", 5)
    return parts[4] if len(parts) == 6 and _is_account(parts[4]) else None


@lru_cache(maxsize=1024)
def _is_account(text: str) -> bool:
    """A 12-digit account id (cached: a handful of accounts, and the test is a regex)."""
    return _ACCOUNT.match(text) is not None


def check_layers(
    caller: Caller,
    identity_policies: Sequence[Policy],
    permission_boundary: Policy | None,
    session_policy: Policy | None,
) -> None:
    if caller.kind in (_SERVICE, _ROOT):
        what = "a service principal" if caller.kind is _SERVICE else "the root user"
        for given, path in (
            (bool(identity_policies), "$.identity_policies"),
            (permission_boundary is not None, "$.permission_boundary"),
            (session_policy is not None, "$.session_policy"),
        ):
            if given:
                raise PolicyError(path, f"{what} has no {path[2:].replace('_', ' ')}")


_STR = repeat(str)  # all(map(isinstance, values, _STR)): every value is a string, in C


def build_context(
    given: object, principal: str, principal_arn: str | None, resource_account: str
) -> dict[str, tuple[str, ...]]:
    """The request context with lower-cased keys and tuple values, derived keys included."""
    if type(given) is not dict and not isinstance(given, Mapping):  # (an ABC check is slow)
        raise PolicyError("$.request.context", "must be an object of key -> string or list")
    # a copy: the derived keys are cached and shared by every request of this caller
    context = derived_keys(principal, principal_arn, resource_account).copy()
    for key, value in given.items():
        # ``type(x) is str`` first: the common cases without a call to isinstance
        if type(key) is not str or not key:
            _check_key(key)
        lowered = key.lower()
        if type(value) is str:
            context[lowered] = (value,)  # given values win over derived ones
            continue
        if isinstance(value, list | tuple) and all(map(isinstance, value, _STR)):
            values: tuple[str, ...] = tuple(value)
        elif isinstance(value, str):
            values = (value,)
        elif isinstance(value, bool):
            values = ("true" if value else "false",)
        else:
            raise PolicyError(
                f"$.request.context.{key}",
                f"values are strings or lists of strings, not {show(value)}",
            )
        if values:
            context[lowered] = values
        else:
            context.pop(lowered, None)  # an empty list is an empty data set: absent
    return context


def _check_key(key: object) -> None:
    if not isinstance(key, str) or not key:
        raise PolicyError("$.request.context", f"keys must be non-empty strings, not {show(key)}")


@lru_cache(maxsize=4096)
def derived_keys(
    principal: str, principal_arn: str | None, resource_account: str | None
) -> dict[str, tuple[str, ...]]:
    """Keys AWS always sets, derived from the caller (reference_policies_condition-keys.html).

    Cached by the request's strings (callers and accounts repeat); never mutate the result.
    """
    caller = parse_caller(principal, principal_arn)
    keys: dict[str, str] = {}
    if caller.kind is PrincipalKind.SERVICE:
        keys["aws:principalservicename"] = caller.arn
        keys["aws:principalisawsservice"] = "true"
    else:
        keys["aws:principalisawsservice"] = "false"
        assert caller.account is not None
        keys["aws:principalaccount"] = caller.account
        if caller.entity_arn:
            keys["aws:principalarn"] = caller.entity_arn
        kind = caller.kind
        keys["aws:principaltype"] = "AssumedRole" if kind is PrincipalKind.ROLE else kind.value
        if kind is PrincipalKind.USER and caller.name:
            keys["aws:username"] = caller.name
        if kind is PrincipalKind.ROOT:
            keys["aws:userid"] = caller.account
        if kind is PrincipalKind.FEDERATED_USER and caller.name:
            keys["aws:userid"] = f"{caller.account}:{caller.name}"
    if resource_account:
        keys["aws:resourceaccount"] = resource_account
    return {k: (v,) for k, v in keys.items()}
