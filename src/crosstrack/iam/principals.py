"""Who is asking, and whether a ``Principal``/``NotPrincipal`` element names them.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html

A request principal has several *identities* a policy can name: an assumed-role session is
named by its session ARN, by its role's ARN and by its account (``"111111111111"`` and
``arn:aws:iam::111111111111:root`` are the same principal). Which one a resource policy named
matters within one account (see ``decide``), so matching reports the most specific one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, IntEnum
from functools import lru_cache
from typing import Any

from crosstrack.iam.errors import PolicyError, show

_ACCOUNT = re.compile(r"^\d{12}$")
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$")
# The unique ID of a role (AROA...) or user (AIDA...): 16 to 128 characters in all
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids).
_UNIQUE_ID = re.compile(r"^(?:AROA|AIDA)[A-Z0-9]{12,124}$")
_IAM_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<rest>.+)$"
)


class PrincipalKind(Enum):
    """The principal types the engine evaluates."""

    ROOT = "Account"  # values are aws:PrincipalType's vocabulary
    USER = "User"
    ROLE = "Role"  # a role ARN given as the caller (stands for a session of that role)
    ASSUMED_ROLE = "AssumedRole"
    FEDERATED_USER = "FederatedUser"
    SERVICE = "Service"


class Grant(IntEnum):
    """How a resource policy named the caller, ordered by how much the grant settles on its
    own (higher wins when several statements allow): an account grant only delegates to the
    account's identity policies; "*" or the role ARN allow subject to a boundary or session
    policy; the user or session ARN allows outright.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    """

    ACCOUNT = 1  # account id / :root
    ANYONE = 2  # "*" or NotPrincipal
    ROLE = 3  # the role (or federating user) behind a session
    USER = 4  # the IAM user itself
    SESSION = 5  # the session ARN itself
    SERVICE = 6  # the service principal itself


@dataclass(frozen=True, slots=True)
class Caller:
    """A parsed request principal."""

    kind: PrincipalKind
    arn: str  # as given (service principals: the service name)
    account: str | None  # None for service principals
    partition: str
    entity_arn: str | None  # aws:PrincipalArn: the role ARN for sessions, the user/root ARN
    name: str | None  # user name, role name or federated user name
    identities: tuple[tuple[str, Grant], ...]  # normalised names a policy may use, with grant

    @property
    def display(self) -> str:
        """What to call the caller in a sentence: the role ARN for a session, else its ARN."""
        return self.entity_arn or self.arn


def _split(arn: str, path: str) -> tuple[str, str, str, str]:
    m = _IAM_ARN.match(arn)
    if not m:
        raise PolicyError(
            path,
            f"{show(arn)} is not a principal ARN (arn:aws:iam::<account>:root|user/..|role/.., "
            "arn:aws:sts::<account>:assumed-role/<role>/<session>, or a 12-digit account id)",
        )
    return m["partition"], m["service"], m["account"], m["rest"]


@lru_cache(maxsize=4096)
def parse_caller(principal: str, principal_arn: str | None = None) -> Caller:
    """Parse ``request.principal`` (and the optional role ARN behind a session)."""
    path = "$.request.principal"
    if not isinstance(principal, str) or not principal:
        raise PolicyError(path, "must be a non-empty string")
    if _SERVICE.match(principal):
        if principal_arn is not None:
            raise PolicyError("$.request.principal_arn", "a service principal has no principal_arn")
        return Caller(
            kind=PrincipalKind.SERVICE,
            arn=principal,
            account=None,
            partition="aws",
            entity_arn=None,
            name=principal,
            identities=(("service:" + principal, Grant.SERVICE),),
        )
    if _ACCOUNT.match(principal):
        principal = f"arn:aws:iam::{principal}:root"
    partition, service, account, rest = _split(principal, path)
    root = f"arn:{partition}:iam::{account}:root"
    acct = ("account:" + account, Grant.ACCOUNT)
    if service == "iam" and rest == "root":
        if principal_arn not in (None, root):
            raise PolicyError("$.request.principal_arn", "the root user's principal_arn is itself")
        return Caller(PrincipalKind.ROOT, root, account, partition, root, None, (acct,))
    if service == "iam" and rest.startswith("user/") and len(rest) > 5:
        _same_entity(principal_arn, principal, "user")
        name = rest.rsplit("/", 1)[1]
        ids = (("arn:" + principal, Grant.USER), acct)
        return Caller(PrincipalKind.USER, principal, account, partition, principal, name, ids)
    if service == "iam" and rest.startswith("role/") and len(rest) > 5:
        _same_entity(principal_arn, principal, "role")
        name = rest.rsplit("/", 1)[1]
        ids = (("arn:" + principal, Grant.ROLE), acct)
        return Caller(PrincipalKind.ROLE, principal, account, partition, principal, name, ids)
    if service == "sts":
        return _sts_caller(principal, principal_arn, partition, account, rest)
    raise PolicyError(path, f"unsupported principal {show(principal)}")


def _sts_caller(
    principal: str, principal_arn: str | None, partition: str, account: str, rest: str
) -> Caller:
    path = "$.request.principal"
    acct = ("account:" + account, Grant.ACCOUNT)
    if rest.startswith("assumed-role/"):
        parts = rest.split("/")
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise PolicyError(
                path, f"{show(principal)}: expected assumed-role/<role-name>/<session>"
            )
        role_name = parts[1]
        # A session ARN drops the role's path; principal_arn restores it
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-role-session).
        role_arn = principal_arn or f"arn:{partition}:iam::{account}:role/{role_name}"
        r_partition, r_service, r_account, r_rest = _split(role_arn, "$.request.principal_arn")
        if (r_service, r_account, r_partition) != ("iam", account, partition) or (
            not r_rest.startswith("role/") or r_rest.rsplit("/", 1)[1] != role_name
        ):
            raise PolicyError(
                "$.request.principal_arn",
                f"{show(role_arn)} is not the role behind session {show(principal)}",
            )
        session_ids = (("arn:" + principal, Grant.SESSION), ("arn:" + role_arn, Grant.ROLE), acct)
        return Caller(
            PrincipalKind.ASSUMED_ROLE,
            principal,
            account,
            partition,
            role_arn,
            role_name,
            session_ids,
        )
    if rest.startswith("federated-user/") and len(rest) > 15:
        name = rest.split("/", 1)[1]
        fed_ids: list[tuple[str, Grant]] = [("arn:" + principal, Grant.SESSION), acct]
        if principal_arn is not None:
            fed_ids.insert(1, ("arn:" + principal_arn, Grant.ROLE))
        return Caller(
            PrincipalKind.FEDERATED_USER,
            principal,
            account,
            partition,
            principal,
            name,
            tuple(fed_ids),
        )
    raise PolicyError(path, f"unsupported principal {show(principal)}")


def _same_entity(principal_arn: str | None, principal: str, what: str) -> None:
    if principal_arn is not None and principal_arn != principal:
        raise PolicyError("$.request.principal_arn", f"an IAM {what}'s principal_arn is itself")


@dataclass(frozen=True, slots=True)
class PrincipalSet:
    """A compiled ``Principal`` or ``NotPrincipal`` element."""

    anyone: bool
    names: frozenset[str]  # normalised: "account:<id>", "arn:<arn>", "service:<name>", ...

    def grant_for(self, caller: Caller) -> Grant | None:
        """For ``Principal``: the most specific way this element names ``caller``, or None."""
        best: Grant | None = Grant.ANYONE if self.anyone else None
        for name, grant in caller.identities:
            if name in self.names and (best is None or grant > best):
                best = grant
        return best

    def excludes(self, caller: Caller) -> bool:
        """For ``NotPrincipal``: True when the statement does NOT apply to ``caller``.

        AWS evaluates every identity of the caller, so a session is exempt only when its
        session ARN, its role and its account are all listed (NotPrincipal page, "Specifying
        NotPrincipal with Deny").
        """
        if self.anyone:
            return True
        return all(name in self.names for name, _grant in caller.identities)


_PRINCIPAL_KEYS = ("AWS", "Service", "Federated", "CanonicalUser")


def compile_principal(element: Any, path: str) -> PrincipalSet:
    """Validate and compile a Principal/NotPrincipal element."""
    if element == "*":
        return PrincipalSet(anyone=True, names=frozenset())
    if not isinstance(element, dict) or not element:
        raise PolicyError(path, 'must be "*" or an object with AWS, Service, Federated keys')
    anyone = False
    names: set[str] = set()
    for key, raw in element.items():
        key_path = f"{path}.{key}"
        if key not in _PRINCIPAL_KEYS:
            raise PolicyError(key_path, f"unknown principal type {show(key)}")
        values = raw if isinstance(raw, list) else [raw]
        if not values:
            raise PolicyError(key_path, "needs at least one principal")
        for i, value in enumerate(values):
            vpath = f"{key_path}[{i}]" if isinstance(raw, list) else key_path
            if not isinstance(value, str) or not value:
                raise PolicyError(vpath, "a principal must be a non-empty string")
            if value == "*":
                # {"AWS": "*"} is the same as "*" (Principal page, "All principals").
                anyone = anyone or key == "AWS"
                if key != "AWS":
                    raise PolicyError(vpath, '"*" is only valid as "Principal": "*" or AWS: "*"')
                continue
            names.add(_normalise(key, value, vpath))
    return PrincipalSet(anyone=anyone, names=frozenset(names))


def _normalise(key: str, value: str, path: str) -> str:
    if "*" in value or "?" in value:
        # "You cannot use a wildcard to match part of a principal name or ARN" (Principal page).
        raise PolicyError(
            path,
            f"wildcards are not allowed in a principal ({show(value)}); "
            "use a condition on aws:PrincipalArn instead",
        )
    if key == "Service":
        return "service:" + value.lower()
    if key != "AWS":
        return _NAME_PREFIXES[key] + value
    return _aws_principal(value, path)


# How the other principal types' values are named ("Service" is lower-cased besides)
_NAME_PREFIXES = {"CanonicalUser": "canonical:", "Federated": "federated:"}


def _aws_principal(value: str, path: str) -> str:
    """The normalised name of an ``AWS`` principal: an account, a unique ID or an IAM ARN."""
    if _ACCOUNT.match(value):
        return "account:" + value
    if _UNIQUE_ID.match(value):
        # AWS stores a role or user ARN in a trust or resource policy as the principal's unique
        # ID, and shows the bare ID once that principal is deleted: a role recreated with the
        # same ARN does not match it (reference_policies_elements_principal.html, "IAM role
        # principals"). Callers are known by ARN here, so the ID names no caller.
        return "unique-id:" + value
    _partition, service, account, rest = _split(value, path)
    if service == "iam" and rest == "root":
        return "account:" + account
    valid = (
        (service == "iam" and (rest.startswith(("user/", "role/"))) and len(rest) > 5)
        or (service == "sts" and rest.startswith("assumed-role/") and rest.count("/") == 2)
        or (service == "sts" and rest.startswith("federated-user/") and len(rest) > 15)
    )
    if not valid:
        raise PolicyError(path, f"malformed principal ARN {show(value)}")
    return "arn:" + value
