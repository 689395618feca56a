"""Cross-account credentials: assume role B once, cache it, refresh it before it expires.

Over ~400 lines on purpose: the session cache, its botocore refresh and the client budgets it
sets are one lifecycle, kept together so the undocumented botocore names stay in one module.

The original assumed the role on every invocation with a constant session name. Here one
warm Lambda container assumes role B about once every 45-50 minutes:

* sessions last 3600 s, the most a *role-chained* session may last (Lambda's execution
  role A assuming role B is role chaining);
  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining
* botocore's refreshable credentials refresh them: a thread refreshes in the advisory
  window (15 min before expiry; a failure only warns and the old keys stay in use), every
  caller waits in the mandatory window (10 min before; a failure raises). A 900 s session
  would live in the advisory window for good, hence 3600 s.

The botocore classes that do this (``DeferredRefreshableCredentials``,
``AssumeRoleCredentialFetcher``, ``CredentialResolver``) are not in botocore's reference
documentation (boto3#443, botocore#761), so they are used in exactly one function,
:func:`_assume_role_botocore_session`, and tests/unit/reporter/test_session.py fails loudly
if they move.

Imports: standard library, boto3 and botocore only (this module ships in the Lambda zip).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final

import boto3
import botocore
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import BotoCoreError, ClientError

from crosstrack.reporter.errors import ConfigError, CredentialsError, RuntimeUnsupportedError

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware. Injected so a benchmark can simulate a day."""

# The most a role-chained session may last (DurationSeconds above it is rejected).
# https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
ROLE_CHAIN_MAX_SECONDS: Final = 3600

# RoleSessionName: 2-64 characters of [\w+=,.@-] (ASCII word characters).
# https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
SESSION_NAME_MAX: Final = 64
_NOT_SESSION_NAME_CHAR = re.compile(r"[^\w+=,.@-]", re.ASCII)
_SESSION_PREFIX = re.compile(r"^[\w+=,.@-]{1,62}$", re.ASCII)

# Standard retry mode: retries throttling and transient errors (S3 503 SlowDown, 500s,
# connection errors) with exponential backoff and a retry quota; 3 attempts in all.
# https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
# These are the most a call may take when time is plentiful; with an invocation deadline
# closer than their worst case (WORST_CASE_SECONDS), client_config() shrinks them to fit.
MAX_ATTEMPTS: Final = 3
CONNECT_TIMEOUT: Final = 5.0
READ_TIMEOUT: Final = 20.0
# Standard mode sleeps random(0, 1) * 2**(attempt - 1) s between attempts (at most 20 s):
# at most 1 s + 2 s for 3 attempts.
# https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
_MIN_ATTEMPT_SECONDS: Final = 2.0


def _backoff(attempts: int) -> float:
    return float(2 ** (attempts - 1) - 1)


WORST_CASE_SECONDS: Final = MAX_ATTEMPTS * (CONNECT_TIMEOUT + READ_TIMEOUT) + _backoff(MAX_ATTEMPTS)


def client_config(budget: float | None = None) -> Config:
    """botocore's config for one call that must end within ``budget`` seconds (None: no limit).

    botocore bounds each attempt by a connect and a read timeout (each per socket
    operation; AWS endpoints do not drip) and makes up to ``max_attempts`` attempts with
    backoff between them, so one call can take attempts * (connect + read) + backoff. With
    a budget below that, attempts drop first (to keep >= 2 s each), then both timeouts
    shrink in proportion. Budgets are rounded down to whole seconds (at least 1: the caller
    does not start a call with less), so warm invocations reuse a handful of clients.
    """
    if budget is None or budget >= WORST_CASE_SECONDS:
        return _config(MAX_ATTEMPTS, CONNECT_TIMEOUT, READ_TIMEOUT)
    seconds = max(1.0, float(int(budget)))
    attempts = MAX_ATTEMPTS
    while attempts > 1 and (seconds - _backoff(attempts)) / attempts < _MIN_ATTEMPT_SECONDS:
        attempts -= 1
    per_attempt = (seconds - _backoff(attempts)) / attempts
    share = per_attempt / (CONNECT_TIMEOUT + READ_TIMEOUT)
    return _config(attempts, CONNECT_TIMEOUT * share, READ_TIMEOUT * share)


def _config(attempts: int, connect: float, read: float) -> Config:
    # total_max_attempts counts the first request; botocore's older max_attempts key counts
    # only retries (max_attempts=3 is 4 attempts). Config reference, "retries".
    # https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html
    return Config(
        retries={"mode": "standard", "total_max_attempts": attempts},
        connect_timeout=connect,
        read_timeout=read,
        user_agent_appid="crosstrack",
    )


def worst_case_seconds(config: Config) -> float:
    """The longest one call with ``config`` can take (before any server-side slowness)."""
    attempts = int(config.retries["total_max_attempts"])
    per_attempt = float(config.connect_timeout) + float(config.read_timeout)
    return attempts * per_attempt + _backoff(attempts)


_CLIENT_CONFIG: Final = client_config()

_PROVIDER_METHOD: Final = "crosstrack-assume-role"
# S3 clients kept per role: one per region and budget tier in use (usually one or two).
_MAX_CACHED_CLIENTS: Final = 8


def _utc_now() -> datetime:
    return datetime.now(UTC)


def role_session_name(prefix: str, request_id: str | None) -> str:
    """``<prefix>-<request-id fragment>``: valid for AssumeRole, traceable in CloudTrail.

    The fragment is the invocation's request id with characters outside ``[\\w+=,.@-]``
    dropped, cut so the whole name fits 64 characters (the start of a Lambda request id,
    a UUID, is its most varying part). Without a request id (a local run) a random
    fragment keeps concurrent sessions apart in CloudTrail.
    """
    if not _SESSION_PREFIX.match(prefix):
        raise ConfigError(
            f"RoleSessionName prefix {prefix!r} is not valid; expected 1-{SESSION_NAME_MAX - 2} "
            "characters of letters, digits and +=,.@-_ (room is left for a request-id fragment)"
        )
    fragment = _NOT_SESSION_NAME_CHAR.sub("", request_id or "")
    if not fragment:
        fragment = uuid.uuid4().hex
    room = SESSION_NAME_MAX - len(prefix) - 1
    return f"{prefix}-{fragment[:room]}"


def _assume_role_botocore_session(
    *,
    fetch: Callable[[], dict[str, Any]],
    clock: Clock,
) -> botocore.session.Session:
    """A botocore session whose credentials assume a role and refresh themselves.

    ``fetch`` returns botocore's credential metadata (``access_key``, ``secret_key``,
    ``token``, ``expiry_time``); :class:`CrossAccountSessions` builds it over an
    ``AssumeRoleCredentialFetcher``. ``DeferredRefreshableCredentials`` calls it on first
    use and again whenever ``clock`` says the keys are inside a refresh window. This is the
    only place that touches botocore's credential internals.
    """
    credentials = DeferredRefreshableCredentials(
        refresh_using=fetch, method=_PROVIDER_METHOD, time_fetcher=clock
    )

    class _Provider(CredentialProvider):  # type: ignore[misc]
        METHOD = _PROVIDER_METHOD
        CANONICAL_NAME = "custom-crosstrack-assume-role"

        def load(self) -> DeferredRefreshableCredentials:
            return credentials

    session = botocore.session.Session()
    session.register_component("credential_provider", CredentialResolver([_Provider()]))
    return session


class _NoCache(dict[str, Any]):
    """A cache for ``CachedCredentialFetcher`` that never answers.

    ``CachedCredentialFetcher`` re-checks a cached response's expiry against the *real*
    clock (botocore's ``_local_now``), not the injected one. With this cache (and a new
    fetcher per refresh, which also carries the current invocation's RoleSessionName) every
    fetch is a real AssumeRole call, so the one refresh decision is made by the refreshable
    credentials with the injected clock, and a simulated day counts real STS calls.
    In-memory caching across warm invocations is the credentials object's job anyway.
    """

    def __contains__(self, key: object) -> bool:
        return False

    def __setitem__(self, key: str, value: Any) -> None:
        return None


@dataclass
class _Entry:
    """One cached cross-account session (per role ARN and ExternalId)."""

    session: boto3.Session
    credentials: Any
    session_name: str
    s3_clients: dict[tuple[Any, ...], Any] = field(default_factory=dict)


class CrossAccountSessions:
    """Cache of boto3 sessions for cross-account roles; keep one per Lambda container.

    ``source`` is the botocore session whose credentials call AssumeRole (in Lambda: the
    execution role, from the environment); by default a fresh one, which also honours
    ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_STS`` and ``AWS_CA_BUNDLE``. ``sts_region``
    selects the regional STS endpoint (default: the source's region, else us-east-1).
    """

    def __init__(
        self,
        *,
        source: botocore.session.Session | None = None,
        clock: Clock = _utc_now,
        duration_seconds: int = ROLE_CHAIN_MAX_SECONDS,
        sts_region: str | None = None,
    ) -> None:
        if not 900 <= duration_seconds <= 43_200:
            # AssumeRole accepts 900 s to 12 h (role chaining: at most 1 h).
            raise ValueError(f"duration_seconds={duration_seconds} is outside 900..43200")
        self._source = source if source is not None else botocore.session.Session()
        self._clock = clock
        self._duration = duration_seconds
        self._sts_region = sts_region or self._source.get_config_variable("region") or "us-east-1"
        self._entries: dict[tuple[str, str | None], _Entry] = {}
        self._lock = threading.Lock()
        self._sts_calls = 0
        self._sts_config = _CLIENT_CONFIG

    @property
    def sts_calls(self) -> int:
        """AssumeRole requests made so far (successful or not), across all roles."""
        return self._sts_calls

    def session(
        self,
        role_arn: str,
        *,
        external_id: str | None = None,
        session_name: str,
        budget: float | None = None,
    ) -> boto3.Session:
        """A boto3 session acting as ``role_arn``, with valid credentials.

        The first call for a role (and ExternalId) assumes it; later calls reuse the cached
        credentials and re-assume only inside botocore's refresh windows. ``session_name``
        names the *next* AssumeRole call, so CloudTrail shows which invocation made it, and
        ``budget`` (seconds, None: no limit) bounds it (:func:`client_config`).
        Raises :class:`CredentialsError` when the role cannot be assumed.
        """
        key = (role_arn, external_id)
        with self._lock:
            self._sts_config = client_config(budget)
            entry = self._entries.get(key)
            if entry is None:
                entry = self._new_entry(role_arn, external_id, session_name)
                self._entries[key] = entry
            entry.session_name = session_name
        try:
            # Resolve now (assume on first use, refresh if due) so a failure surfaces here,
            # as a CredentialsError, rather than in the middle of an S3 call.
            entry.credentials.get_frozen_credentials()
        except (BotoCoreError, RuntimeError) as exc:
            raise CredentialsError(f"credentials for {role_arn} are unusable: {exc}") from exc
        return entry.session

    def s3(
        self,
        role_arn: str,
        *,
        external_id: str | None = None,
        session_name: str,
        region: str,
        budget: float | None = None,
    ) -> Any:
        """The cached S3 client of :meth:`session` for ``region`` (connections are reused).

        Each call of the client ends within ``budget`` seconds (None: botocore's usual
        limits); see :func:`client_config`. Clients are cached per region and budget tier.
        """
        session = self.session(
            role_arn, external_id=external_id, session_name=session_name, budget=budget
        )
        entry = self._entries[(role_arn, external_id)]
        config = client_config(budget)
        attempts = config.retries["total_max_attempts"]
        tier = (region, config.connect_timeout, config.read_timeout, attempts)
        with self._lock:
            client = entry.s3_clients.get(tier)
            if client is None:
                if len(entry.s3_clients) >= _MAX_CACHED_CLIENTS:
                    entry.s3_clients.pop(next(iter(entry.s3_clients)))  # the oldest
                client = entry.s3_clients[tier] = s3_client(session, region, config=config)
        return client

    def _new_entry(self, role_arn: str, external_id: str | None, session_name: str) -> _Entry:
        holder: dict[str, _Entry] = {}

        def fetch() -> dict[str, Any]:
            entry = holder["entry"]
            extra: dict[str, Any] = {
                "RoleSessionName": entry.session_name,
                "DurationSeconds": self._duration,
            }
            if external_id is not None:
                extra["ExternalId"] = external_id
            return self._assume(role_arn, extra)

        bc_session = _assume_role_botocore_session(fetch=fetch, clock=self._clock)
        boto_session = boto3.Session(botocore_session=bc_session)
        entry = _Entry(
            session=boto_session,
            credentials=bc_session.get_credentials(),
            session_name=session_name,
        )
        holder["entry"] = entry
        return entry

    def _assume(self, role_arn: str, extra: dict[str, Any]) -> dict[str, Any]:
        """One AssumeRole call through botocore's fetcher; AWS errors become CredentialsError."""
        source_credentials = self._source.get_credentials()
        if source_credentials is None:
            raise CredentialsError(
                f"cannot assume {role_arn}: no AWS credentials for the calling account "
                "(in Lambda they come from the execution role)"
            )
        fetcher = AssumeRoleCredentialFetcher(
            client_creator=partial(
                self._source.create_client, region_name=self._sts_region, config=self._sts_config
            ),
            source_credentials=source_credentials,
            role_arn=role_arn,
            extra_args=extra,
            cache=_NoCache(),
        )
        with self._lock:
            self._sts_calls += 1
        try:
            metadata: dict[str, Any] = fetcher.fetch_credentials()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "Unknown")
            message = error.get("Message", str(exc))
            raise CredentialsError(
                f"AssumeRole on {role_arn} failed: {code}: {message}{_hint(code)}"
            ) from exc
        except BotoCoreError as exc:
            raise CredentialsError(f"AssumeRole on {role_arn} failed: {exc}") from exc
        return metadata


def _hint(code: str) -> str:
    # The trust chain of design.md: steps 2 (A's identity policy) and 3 (B's trust policy)
    # both have to allow; STS answers AccessDenied for either, and for a wrong ExternalId.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_roles.html
    if code == "AccessDenied":
        return (
            " (the calling role's policy must allow sts:AssumeRole on this role, and this "
            "role's trust policy must trust the caller, with the right ExternalId if it "
            "requires one)"
        )
    return ""


def s3_client(session: boto3.Session, region: str, *, config: Config | None = None) -> Any:
    """An S3 client for the bucket's region with botocore's standard retry mode.

    ``config`` defaults to :func:`client_config` without a budget. ``AWS_ENDPOINT_URL`` /
    ``AWS_ENDPOINT_URL_S3`` and ``AWS_CA_BUNDLE`` are honoured by botocore itself, so the
    same code runs against the local two-account emulator.
    https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
    """
    return session.client("s3", region_name=region, config=config or _CLIENT_CONFIG)


def require_conditional_writes(client: Any | None = None) -> None:
    """Refuse to run on a botocore whose S3 PutObject has no ``IfMatch`` / ``IfNoneMatch``.

    Without them the ledger cannot write safely (and botocore would reject the parameters
    only at the first write). ETag-based conditional writes reached the AWS SDKs on
    2024-11-25; a Lambda runtime's bundled SDK may be older. Pass an S3 client to check
    the model it was built from (no extra model load); otherwise botocore's own is loaded.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
    """
    if client is not None:
        service_model = client.meta.service_model
    else:
        service_model = botocore.session.get_session().get_service_model("s3")
    members = service_model.operation_model("PutObject").input_shape.members
    missing = [name for name in ("IfMatch", "IfNoneMatch") if name not in members]
    if missing:
        raise RuntimeUnsupportedError(
            f"botocore {botocore.__version__} (from {botocore.__file__}) predates S3 "
            f"conditional writes: its PutObject has no {' or '.join(missing)} parameter. "
            "The reporter needs a botocore released on or after 2024-11-25; the Lambda zip "
            "must bundle a newer SDK (build it without --no-sdk, or supply a layer with "
            "current boto3/botocore)."
        )
