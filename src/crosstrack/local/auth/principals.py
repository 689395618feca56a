"""Who is calling: an access key resolved against the emulator's own IAM and STS state.

AWS resolves the key to a principal before any policy is read
(https://docs.aws.amazon.com/IAM/latest/UserGuide/intro-structure.html#intro-structure-request).
Long-term keys (``AKIA…``) belong to IAM users, temporary keys (``ASIA…``) to role
sessions created by ``sts:AssumeRole``; each lives in exactly one account.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from crosstrack.local.accounts import PARTITION


class KeyProblem(enum.Enum):
    """Why a key cannot authenticate; each maps to the error AWS returns for it."""

    UNKNOWN_KEY = "unknown key"
    INACTIVE_KEY = "inactive key"
    BAD_TOKEN = "session token does not belong to the key"  # noqa: S105
    TOKEN_ON_LONG_TERM_KEY = "session token sent with a long-term key"  # noqa: S105
    MISSING_TOKEN = "temporary key sent without its session token"  # noqa: S105
    EXPIRED = "session expired"


class AuthenticationFailure(Exception):
    def __init__(self, problem: KeyProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class Caller:
    """An authenticated principal, as IAM's request context describes it."""

    kind: str  # "user" | "assumed-role"
    account: str
    arn: str  # the user ARN, or the session ARN arn:aws:sts::A:assumed-role/Role/Session
    principal_arn: str  # aws:PrincipalArn: the user ARN, or the role ARN (with its path)
    name: str  # the user or role name
    session_name: str | None
    user_id: str  # aws:userid: AIDA… for users, AROA…:session for sessions
    access_key_id: str
    secret_access_key: str
    session_token: str | None
    expiration: dt.datetime | None


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _backends(dictionary: Any) -> list[Any]:
    # list() first: moto's BackendDict may grow while another request thread reads it.
    return [dictionary[account][PARTITION] for account in list(dictionary.keys())]


def _user_caller(access_key_id: str, token: str | None) -> Caller | None:
    for backend in _backends(iam_backends):
        user = backend.get_user_from_access_key_id(access_key_id)
        if user is None:
            continue
        key = next(k for k in user.access_keys if k.access_key_id == access_key_id)
        if key.status != "Active":
            raise AuthenticationFailure(KeyProblem.INACTIVE_KEY)
        if token:
            raise AuthenticationFailure(KeyProblem.TOKEN_ON_LONG_TERM_KEY)
        return Caller(
            kind="user",
            account=backend.account_id,
            arn=user.arn,
            principal_arn=user.arn,
            name=user.name,
            session_name=None,
            user_id=user.id,
            access_key_id=access_key_id,
            secret_access_key=key.secret_access_key,
            session_token=None,
            expiration=None,
        )
    return None


def _session_caller(access_key_id: str, token: str | None, now: dt.datetime) -> Caller | None:
    for backend in _backends(sts_backends):
        for session in list(backend.assumed_roles):
            if session.access_key_id != access_key_id:
                continue
            if not token:
                raise AuthenticationFailure(KeyProblem.MISSING_TOKEN)
            if token != session.session_token:
                raise AuthenticationFailure(KeyProblem.BAD_TOKEN)
            expiration = _utc(session.expiration)
            if now >= expiration:
                raise AuthenticationFailure(KeyProblem.EXPIRED)
            role_name = session.role_arn.split("/")[-1]
            return Caller(
                kind="assumed-role",
                account=session.account_id,
                arn=session.arn,
                principal_arn=session.role_arn,
                name=role_name,
                session_name=session.session_name,
                user_id=session.user_id,
                access_key_id=access_key_id,
                secret_access_key=session.secret_access_key,
                session_token=session.session_token,
                expiration=expiration,
            )
    return None


def authenticate(access_key_id: str, token: str | None, *, now: dt.datetime) -> Caller:
    """The principal behind ``access_key_id``; raises :class:`AuthenticationFailure`."""
    caller = _user_caller(access_key_id, token) or _session_caller(access_key_id, token, now)
    if caller is None:
        raise AuthenticationFailure(KeyProblem.UNKNOWN_KEY)
    return caller


def session_policy(caller: Caller) -> str | None:
    """The inline session policy passed to AssumeRole for this session, if any."""
    if caller.kind != "assumed-role":
        return None
    for backend in _backends(sts_backends):
        for session in list(backend.assumed_roles):
            if session.access_key_id == caller.access_key_id:
                policy = session.policy
                return str(policy) if policy else None
    return None
