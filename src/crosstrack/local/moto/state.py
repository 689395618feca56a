"""IAM and STS state of the pinned moto, read and written as plain values.

Users, groups, roles, their policies and tags, access keys and role sessions live in moto's
global backends (one per account). Everything else in crosstrack reads them through these
functions, so a moto upgrade that renames a model attribute breaks here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from crosstrack.local.accounts import PARTITION, REGION


@dataclass(frozen=True)
class Entity:
    """An IAM user, group or role with what the engine reads of it."""

    kind: str  # "user" | "group" | "role"
    name: str
    arn: str
    inline: tuple[tuple[str, str], ...]  # (policy name, document), by name
    attached: tuple[tuple[str, str], ...]  # (policy ARN, default version's document), by ARN
    boundary_arn: str | None = None
    trust_policy: str = ""  # a role's
    tags: tuple[tuple[str, str], ...] = ()  # a role's
    max_session_duration: int = 3600  # a role's MaxSessionDuration, in seconds


@dataclass(frozen=True)
class UserKey:
    """A long-term access key and the user it belongs to."""

    account: str
    user_arn: str
    user_name: str
    user_id: str
    status: str
    secret_access_key: str


@dataclass(frozen=True)
class Session:
    """A role session created by ``sts:AssumeRole``."""

    account: str
    arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<session>
    role_arn: str
    session_name: str
    user_id: str
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: dt.datetime  # always timezone-aware (UTC)
    policy: str | None


def _iam(account: str) -> Any:
    return iam_backends[account][PARTITION]


def _backends(dictionary: Any) -> list[Any]:
    # list() first: moto's BackendDict may grow while another request thread reads it.
    return [dictionary[account][PARTITION] for account in list(dictionary.keys())]


def _default_document(policy: Any) -> str:
    default = next(v for v in policy.versions if v.is_default)
    return str(default.document)


def _tags(stored: Any) -> tuple[tuple[str, str], ...]:
    # moto 5.2 keeps a role's tags as a list of {"Key", "Value"}; other IAM entities as a
    # dict of them by key. Accept both; anything else is a moto change to notice loudly.
    stored = stored or []
    tags = list(stored.values()) if isinstance(stored, dict) else list(stored)
    return tuple((str(t["Key"]), str(t["Value"])) for t in tags)


def _entity(kind: str, found: Any) -> Entity:
    role = kind == "role"
    return Entity(
        kind=kind,
        name=str(found.name),
        arn=str(found.arn),
        inline=tuple(sorted((str(n), str(t)) for n, t in found.policies.items())),
        attached=tuple(
            (str(arn), _default_document(policy))
            for arn, policy in sorted(found.managed_policies.items())
        ),
        boundary_arn=getattr(found, "permissions_boundary_arn", None) or None,
        trust_policy=str(found.assume_role_policy_document) if role else "",
        tags=_tags(found.tags) if role else (),
        max_session_duration=int(getattr(found, "max_session_duration", 3600) or 3600),
    )


def user(account: str, name: str) -> Entity:
    """The user ``name`` of ``account`` (moto's NoSuchEntity when there is none)."""
    return _entity("user", _iam(account).get_user(name))


def groups_of_user(account: str, name: str) -> list[Entity]:
    return [_entity("group", g) for g in _iam(account).get_groups_for_user(name)]


def managed_policy(account: str, arn: str) -> str | None:
    """The default version of a managed policy (AWS-managed ones exist in every account)."""
    policy = _iam(account).managed_policies.get(arn)
    return None if policy is None else _default_document(policy)


def role_by_arn(arn: str) -> Entity | None:
    """The role an ARN names, looked up in *its own* account (``None`` when it doesn't exist)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    account = parts[4]
    if account not in iam_backends:
        return None
    # The path is part of the ARN: role/path/name only matches the role with that path.
    found = next((r for r in list(_iam(account).roles.values()) if r.arn == arn), None)
    return None if found is None else _entity("role", found)


def role(account: str, name: str) -> Entity:
    """The role ``name`` of ``account`` (moto's NoSuchEntity when there is none)."""
    return _entity("role", _iam(account).get_role(name))


def role_by_name(account: str, name: str) -> Entity | None:
    found = next((r for r in list(_iam(account).roles.values()) if r.name == name), None)
    return None if found is None else _entity("role", found)


def user_key(access_key_id: str) -> UserKey | None:
    """The long-term key ``access_key_id`` and its user, in whichever account holds it."""
    for backend in _backends(iam_backends):
        found = backend.get_user_from_access_key_id(access_key_id)
        if found is None:
            continue
        key = next(k for k in found.access_keys if k.access_key_id == access_key_id)
        return UserKey(
            account=str(backend.account_id),
            user_arn=str(found.arn),
            user_name=str(found.name),
            user_id=str(found.id),
            status=str(key.status),
            secret_access_key=str(key.secret_access_key),
        )
    return None


def _session(found: Any) -> Session:
    expiration = found.expiration
    policy = found.policy
    return Session(
        account=str(found.account_id),
        arn=str(found.arn),
        role_arn=str(found.role_arn),
        session_name=str(found.session_name),
        user_id=str(found.user_id),
        access_key_id=str(found.access_key_id),
        secret_access_key=str(found.secret_access_key),
        session_token=str(found.session_token),
        expiration=expiration if expiration.tzinfo else expiration.replace(tzinfo=dt.UTC),
        policy=str(policy) if policy else None,
    )


def _sessions() -> Iterator[Any]:
    for backend in _backends(sts_backends):
        yield from list(backend.assumed_roles)


def session_by_key(access_key_id: str) -> Session | None:
    """The role session whose temporary key is ``access_key_id``."""
    found = next((s for s in _sessions() if s.access_key_id == access_key_id), None)
    return None if found is None else _session(found)


def assume_role(account: str, role_arn: str, session_name: str, duration_seconds: int) -> Session:
    """A new session of ``role_arn`` without a session policy (the caller decided first)."""
    found = sts_backends[account][PARTITION].assume_role(
        region_name=REGION,
        role_session_name=session_name,
        role_arn=role_arn,
        policy="",
        duration=duration_seconds,
        external_id="",
    )
    return _session(found)


# ------------------------------------------------------------------------- writers
def create_user(account: str, name: str) -> str:
    """Create the user; its ARN."""
    return str(_iam(account).create_user(REGION, name).arn)


def put_user_policy(account: str, user_name: str, policy_name: str, document: str) -> None:
    _iam(account).put_user_policy(user_name, policy_name, document)


def create_access_key(account: str, user_name: str) -> tuple[str, str]:
    """A new key of the user: (access key id, secret access key)."""
    key = _iam(account).create_access_key(user_name)
    return str(key.access_key_id), str(key.secret_access_key)


def create_role(account: str, name: str, trust_policy: str, description: str) -> str:
    """Create the role (path ``/``, one-hour sessions); its ARN."""
    role = _iam(account).create_role(
        role_name=name,
        assume_role_policy_document=trust_policy,
        path="/",
        permissions_boundary=None,
        description=description,
        tags=[],
        max_session_duration="3600",
    )
    return str(role.arn)


def create_policy(account: str, name: str, document: str, description: str) -> str:
    """Create a customer managed policy (path ``/``); its ARN."""
    policy = _iam(account).create_policy(
        description=description, path="/", policy_document=document, policy_name=name, tags=[]
    )
    return str(policy.arn)


def put_role_policy(account: str, role_name: str, policy_name: str, document: str) -> None:
    _iam(account).put_role_policy(role_name, policy_name, document)


def set_role_policies(account: str, role_name: str, documents: Mapping[str, str]) -> None:
    """Make ``documents`` the role's inline policies, in place (no IAM call is audited)."""
    stored = _iam(account).get_role(role_name).policies
    stored.clear()
    stored.update(documents)


def set_trust_policy(account: str, role_name: str, document: str) -> None:
    _iam(account).get_role(role_name).assume_role_policy_document = document
