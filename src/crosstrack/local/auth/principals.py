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

from crosstrack.local.moto import state


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
    # The inline session policy passed to AssumeRole, read once at authentication (a
    # session's policy never changes): every question of the request carries it.
    session_policy: str | None = None


def _user_caller(access_key_id: str, token: str | None) -> Caller | None:
    key = state.user_key(access_key_id)
    if key is None:
        return None
    if key.status != "Active":
        raise AuthenticationFailure(KeyProblem.INACTIVE_KEY)
    if token:
        raise AuthenticationFailure(KeyProblem.TOKEN_ON_LONG_TERM_KEY)
    return Caller(
        kind="user",
        account=key.account,
        arn=key.user_arn,
        principal_arn=key.user_arn,
        name=key.user_name,
        session_name=None,
        user_id=key.user_id,
        access_key_id=access_key_id,
        secret_access_key=key.secret_access_key,
    )


def _session_caller(access_key_id: str, token: str | None, now: dt.datetime) -> Caller | None:
    session = state.session_by_key(access_key_id)
    if session is None:
        return None
    if not token:
        raise AuthenticationFailure(KeyProblem.MISSING_TOKEN)
    if token != session.session_token:
        raise AuthenticationFailure(KeyProblem.BAD_TOKEN)
    if now >= session.expiration:
        raise AuthenticationFailure(KeyProblem.EXPIRED)
    return Caller(
        kind="assumed-role",
        account=session.account,
        arn=session.arn,
        principal_arn=session.role_arn,
        name=session.role_arn.split("/")[-1],
        session_name=session.session_name,
        user_id=session.user_id,
        access_key_id=access_key_id,
        secret_access_key=session.secret_access_key,
        session_policy=session.policy,
    )


def authenticate(access_key_id: str, token: str | None, *, now: dt.datetime) -> Caller:
    """The principal behind ``access_key_id``; raises :class:`AuthenticationFailure`."""
    caller = _user_caller(access_key_id, token) or _session_caller(access_key_id, token, now)
    if caller is None:
        raise AuthenticationFailure(KeyProblem.UNKNOWN_KEY)
    return caller
