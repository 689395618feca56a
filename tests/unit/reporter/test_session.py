"""Cross-account session: naming, caching, refresh timing, error translation, SDK checks.

STS is answered in-process by ``FakeSTS``, a botocore ``before-send`` hook on the source
session: requests go through botocore's real serializer, signer and parser, and the
answers follow the injected clock (moto's STS would stamp expirations with the real one).
"""

from __future__ import annotations

import inspect
import itertools
import json
import re
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.credentials
import botocore.loaders
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse

from crosstrack.reporter import session as session_module
from crosstrack.reporter.errors import ConfigError, CredentialsError, RuntimeUnsupportedError
from crosstrack.reporter.session import (
    WORST_CASE_SECONDS,
    CrossAccountSessions,
    client_config,
    require_conditional_writes,
    role_session_name,
    s3_client,
    worst_case_seconds,
)

ROLE_B = "arn:aws:iam::222222222222:role/access-s3-bucket"
AWS_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)  # API_AssumeRole.html


class Clock:
    """A settable clock, as the benchmark and a test inject it; starts at the real time."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


class FakeSTS:
    """Answers AssumeRole for clients of ``source``; records every request's parameters."""

    def __init__(self, source: botocore.session.Session, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.requests: list[dict[str, str]] = []
        self.error: tuple[int, str, str] | None = None
        source.register("before-send.sts.AssumeRole", self._answer)

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        params = dict(urllib.parse.parse_qsl(body))
        self.requests.append(params)
        n = len(self.requests)
        if self.error is not None:
            status, code, message = self.error
            xml = (
                '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
                f"<Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                "<RequestId>r-1</RequestId></ErrorResponse>"
            )
            return AWSResponse(request.url, status, {}, _Raw(xml.encode()))
        expires = self.clock() + timedelta(seconds=int(params["DurationSeconds"]))
        xml = (
            '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            "<AssumeRoleResult><Credentials>"
            f"<AccessKeyId>ASIAFAKE{n:012d}</AccessKeyId>"
            f"<SecretAccessKey>secret-{n}</SecretAccessKey>"
            f"<SessionToken>token-{n}</SessionToken>"
            f"<Expiration>{expires:%Y-%m-%dT%H:%M:%SZ}</Expiration>"
            "</Credentials><AssumedRoleUser>"
            f"<Arn>arn:aws:sts::222222222222:assumed-role/access-s3-bucket/{params['RoleSessionName']}</Arn>"
            "<AssumedRoleId>AROAFAKE:x</AssumedRoleId></AssumedRoleUser>"
            "</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
            "</AssumeRoleResponse>"
        )
        return AWSResponse(request.url, 200, {}, _Raw(xml.encode()))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def source() -> botocore.session.Session:
    return botocore.session.Session()  # env credentials from the autouse fake environment


@pytest.fixture
def sts(source: botocore.session.Session, clock: Clock) -> FakeSTS:
    return FakeSTS(source, clock)


def access_key(session: Any) -> str:
    key: str = session.get_credentials().get_frozen_credentials().access_key
    return key


# --- RoleSessionName -------------------------------------------------------------------


def test_session_name_is_prefix_and_request_id() -> None:
    name = role_session_name("crosstrack", "c6af9ac6-7b61-11e6-9a41-93e812345678")
    assert name == "crosstrack-c6af9ac6-7b61-11e6-9a41-93e812345678"
    assert AWS_SESSION_NAME.match(name)


def test_session_name_is_cut_to_64_characters_keeping_the_prefix() -> None:
    prefix = "p" * 40
    name = role_session_name(prefix, "c6af9ac6-7b61-11e6-9a41-93e812345678")
    assert len(name) == 64
    assert name == prefix + "-" + "c6af9ac6-7b61-11e6-9a41-93e812345678"[:23]
    longest = role_session_name("q" * 62, "abc")
    assert longest == "q" * 62 + "-a"
    assert AWS_SESSION_NAME.match(longest)


def test_session_name_drops_characters_aws_refuses() -> None:
    name = role_session_name("ct", "req id/with:odd#chars é+=,.@_-")
    assert name == "ct-reqidwithoddchars+=,.@_-"
    assert AWS_SESSION_NAME.match(name)


def test_session_name_without_request_id_is_valid_and_unique() -> None:
    names = {role_session_name("crosstrack", None) for _ in range(20)}
    names |= {role_session_name("crosstrack", "/:#")}
    assert len(names) == 21
    assert all(AWS_SESSION_NAME.match(n) and n.startswith("crosstrack-") for n in names)


@pytest.mark.parametrize("prefix", ["", "has space", "x" * 63, "ü"])
def test_invalid_session_prefix_is_a_config_error(prefix: str) -> None:
    with pytest.raises(ConfigError, match="RoleSessionName prefix"):
        role_session_name(prefix, "abc")


# --- caching and refresh ---------------------------------------------------------------


def test_one_sts_call_for_many_warm_invocations(
    source: botocore.session.Session, sts: FakeSTS
) -> None:
    sessions = CrossAccountSessions(source=source)
    keys = set()
    for i in range(100):
        boto = sessions.session(ROLE_B, session_name=f"crosstrack-req{i}")
        keys.add(access_key(boto))
    assert len(sts.requests) == 1
    assert sessions.sts_calls == 1
    assert len(keys) == 1
    request = sts.requests[0]
    assert request["RoleArn"] == ROLE_B
    assert request["DurationSeconds"] == "3600"
    assert request["RoleSessionName"] == "crosstrack-req0"
    assert "ExternalId" not in request


def test_external_id_is_sent_and_keys_the_cache(
    source: botocore.session.Session, sts: FakeSTS
) -> None:
    sessions = CrossAccountSessions(source=source)
    a = sessions.session(ROLE_B, external_id="ext-123", session_name="crosstrack-1")
    b = sessions.session(ROLE_B, external_id="ext-123", session_name="crosstrack-2")
    c = sessions.session(ROLE_B, external_id=None, session_name="crosstrack-3")
    assert a is b
    assert c is not a
    assert [r.get("ExternalId") for r in sts.requests] == ["ext-123", None]
    assert sessions.sts_calls == 2


def test_refresh_happens_before_expiry_on_the_injected_clock(
    source: botocore.session.Session, sts: FakeSTS, clock: Clock
) -> None:
    # A day on a 5-minute schedule. Each refresh must come while the old keys still have at
    # least botocore's mandatory 10 minutes left, and no later than needed (advisory: 15).
    sessions = CrossAccountSessions(source=source, clock=clock)
    expiry = None
    calls_before = 0
    refresh_times = []
    for i in range(288):
        boto = sessions.session(ROLE_B, session_name=f"crosstrack-inv{i}")
        key = access_key(boto)
        if len(sts.requests) != calls_before:
            calls_before = len(sts.requests)
            refresh_times.append(clock.now)
            if expiry is not None:
                assert timedelta(minutes=10) <= expiry - clock.now <= timedelta(minutes=15)
            expiry = clock.now + timedelta(hours=1)
            assert key == f"ASIAFAKE{calls_before:012d}"  # the new keys are in use at once
            # The call that refreshed is named after the invocation that made it.
            assert sts.requests[-1]["RoleSessionName"] == f"crosstrack-inv{i}"
        assert expiry is not None
        assert expiry - clock.now > timedelta(minutes=10)
        clock.advance(minutes=5)
    gaps = {b - a for a, b in itertools.pairwise(refresh_times)}
    assert gaps == {timedelta(minutes=50)}
    assert sessions.sts_calls == len(refresh_times) == 29  # 1440 min / 50, rounded up


def test_failed_advisory_refresh_keeps_old_keys_then_mandatory_failure_raises(
    source: botocore.session.Session, sts: FakeSTS, clock: Clock
) -> None:
    sessions = CrossAccountSessions(source=source, clock=clock)
    first = access_key(sessions.session(ROLE_B, session_name="crosstrack-1"))
    sts.error = (503, "ServiceUnavailable", "try later")
    clock.advance(minutes=47)  # 13 min left: advisory window; a failure only warns
    assert access_key(sessions.session(ROLE_B, session_name="crosstrack-2")) == first
    clock.advance(minutes=5)  # 8 min left: mandatory window; a failure is fatal
    with pytest.raises(CredentialsError, match="ServiceUnavailable: try later"):
        sessions.session(ROLE_B, session_name="crosstrack-3")
    sts.error = None
    assert access_key(sessions.session(ROLE_B, session_name="crosstrack-4")) != first


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (
            403,
            "AccessDenied",
            "User: arn:aws:sts::111111111111:assumed-role/connect-to-bridge/x is not authorized "
            f"to perform: sts:AssumeRole on resource: {ROLE_B}",
        ),
        (404, "NoSuchEntity", "The role with name access-s3-bucket cannot be found."),
        (400, "ValidationError", "1 validation error detected"),
    ],
)
def test_assume_role_errors_become_credentials_errors(
    source: botocore.session.Session, sts: FakeSTS, status: int, code: str, message: str
) -> None:
    sts.error = (status, code, message)
    sessions = CrossAccountSessions(source=source)
    with pytest.raises(CredentialsError) as caught:
        sessions.session(ROLE_B, session_name="crosstrack-1")
    assert str(caught.value).startswith(f"AssumeRole on {ROLE_B} failed: {code}: {message}")
    assert ("trust policy" in str(caught.value)) == (code == "AccessDenied")
    # A failure is not cached: the next invocation tries again and can succeed.
    sts.error = None
    assert access_key(sessions.session(ROLE_B, session_name="crosstrack-2")).startswith("ASIA")
    assert sessions.sts_calls == 2


def test_missing_source_credentials_is_a_credentials_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    sessions = CrossAccountSessions(source=botocore.session.Session())
    with pytest.raises(CredentialsError, match=f"cannot assume {re.escape(ROLE_B)}: no AWS cred"):
        sessions.session(ROLE_B, session_name="crosstrack-1")


def test_unreachable_sts_is_a_credentials_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: refused
    sessions = CrossAccountSessions(source=botocore.session.Session())
    with pytest.raises(CredentialsError, match=f"AssumeRole on {re.escape(ROLE_B)} failed: .*127"):
        sessions.session(ROLE_B, session_name="crosstrack-1")


# --- botocore seams --------------------------------------------------------------------


def test_botocore_refreshable_credential_machinery_is_where_session_expects_it() -> None:
    """Fails loudly if botocore moves or reshapes the non-public names session.py relies on."""
    creds = botocore.credentials
    for name in (
        "DeferredRefreshableCredentials",
        "AssumeRoleCredentialFetcher",
        "CredentialResolver",
        "CredentialProvider",
    ):
        assert hasattr(creds, name), f"botocore.credentials.{name} is gone"
    deferred = inspect.signature(creds.DeferredRefreshableCredentials)
    assert {"refresh_using", "method", "time_fetcher"} <= set(deferred.parameters)
    fetcher = inspect.signature(creds.AssumeRoleCredentialFetcher)
    assert {"client_creator", "source_credentials", "role_arn", "extra_args", "cache"} <= set(
        fetcher.parameters
    )
    assert callable(getattr(creds.AssumeRoleCredentialFetcher, "fetch_credentials", None))
    assert callable(getattr(creds.CredentialResolver, "load_credentials", None))
    # The refresh windows the 3600 s duration is chosen against (style-anchors.md).
    assert creds.RefreshableCredentials._advisory_refresh_timeout == 15 * 60
    assert creds.RefreshableCredentials._mandatory_refresh_timeout == 10 * 60


def test_boto3_session_is_built_over_the_refreshing_botocore_session(
    source: botocore.session.Session, sts: FakeSTS
) -> None:
    boto = CrossAccountSessions(source=source).session(ROLE_B, session_name="crosstrack-1")
    credentials = boto.get_credentials()
    assert isinstance(credentials, botocore.credentials.DeferredRefreshableCredentials)
    assert credentials.method == "crosstrack-assume-role"


# --- S3 client -------------------------------------------------------------------------


def test_s3_client_uses_bucket_region_standard_retries_and_aws_endpoint_url(
    source: botocore.session.Session, sts: FakeSTS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    boto = CrossAccountSessions(source=source).session(ROLE_B, session_name="crosstrack-1")
    client = s3_client(boto, "eu-west-3")
    assert client.meta.region_name == "eu-west-3"
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_cached_s3_client_is_reused_across_invocations(
    source: botocore.session.Session, sts: FakeSTS
) -> None:
    sessions = CrossAccountSessions(source=source)
    first = sessions.s3(ROLE_B, session_name="crosstrack-1", region="us-east-1")
    second = sessions.s3(ROLE_B, session_name="crosstrack-2", region="us-east-1")
    assert first is second
    assert sessions.sts_calls == 1


# --- timeouts fitted to the invocation's deadline --------------------------------------


def test_without_a_budget_botocore_gets_the_usual_limits() -> None:
    config = client_config(None)
    # total_max_attempts: 3 attempts in all (botocore's max_attempts would mean 3 retries).
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (5.0, 20.0)
    assert worst_case_seconds(config) == WORST_CASE_SECONDS == 78.0
    assert client_config(500).retries == config.retries


@pytest.mark.parametrize("budget", [1, 1.9, 2, 3.5, 5, 6, 9.99, 14, 27.4, 30, 60, 77.9])
def test_a_call_cannot_outlast_its_budget(budget: float) -> None:
    # attempts x (connect + read) + standard mode's backoff: botocore's worst case.
    config = client_config(budget)
    assert worst_case_seconds(config) <= budget
    assert 1 <= config.retries["total_max_attempts"] <= 3
    assert config.connect_timeout <= config.read_timeout


def test_attempts_drop_before_timeouts_get_silly() -> None:
    assert client_config(30).retries["total_max_attempts"] == 3
    assert client_config(6).retries["total_max_attempts"] == 2
    assert client_config(3).retries["total_max_attempts"] == 1
    assert client_config(3).read_timeout == pytest.approx(2.4)


def test_s3_clients_are_fitted_to_the_budget_and_cached_per_tier(
    source: botocore.session.Session, sts: FakeSTS
) -> None:
    sessions = CrossAccountSessions(source=source)
    roomy = sessions.s3(ROLE_B, session_name="c-1", region="us-east-1")
    tight = sessions.s3(ROLE_B, session_name="c-2", region="us-east-1", budget=3.7)
    again = sessions.s3(ROLE_B, session_name="c-3", region="us-east-1", budget=3.2)

    assert roomy.meta.config.read_timeout == 20
    assert tight.meta.config.retries["total_max_attempts"] == 1
    assert tight.meta.config.read_timeout == pytest.approx(2.4)
    assert again is tight  # same whole-second tier
    assert sessions.sts_calls == 1


def test_a_hanging_sts_cannot_outlast_the_budget(
    source: botocore.session.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A TCP listener that accepts and never answers: the AssumeRole call must give up
    # within its budget rather than botocore's 3 x (5 s + 20 s).
    import socket
    import time

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{port}")
        sessions = CrossAccountSessions(source=botocore.session.Session())
        started = time.monotonic()
        with pytest.raises(CredentialsError, match=r"AssumeRole on .* failed"):
            sessions.session(ROLE_B, session_name="c-1", budget=2.5)
        assert time.monotonic() - started < 2.6


# --- conditional-write support ---------------------------------------------------------


def test_current_botocore_supports_conditional_writes() -> None:
    require_conditional_writes()
    require_conditional_writes(
        botocore.session.Session().create_client("s3", region_name="us-east-1")
    )


@pytest.fixture
def old_botocore(tmp_path: Path) -> botocore.session.Session:
    """A botocore session whose S3 model is the current one minus PutObject's IfMatch."""
    real = botocore.loaders.Loader()
    version = real.determine_latest_version("s3", "service-2")
    model = real.load_service_model("s3", "service-2", version)
    del model["shapes"]["PutObjectRequest"]["members"]["IfMatch"]
    target = tmp_path / "s3" / version
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.Session()
    session.get_component("data_loader").search_paths.insert(0, str(tmp_path))
    return session


def test_botocore_without_put_object_if_match_is_refused_clearly(
    old_botocore: botocore.session.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = old_botocore.create_client("s3", region_name="us-east-1")
    assert (
        "IfMatch" not in client.meta.service_model.operation_model("PutObject").input_shape.members
    )
    with pytest.raises(RuntimeUnsupportedError) as caught:
        require_conditional_writes(client)
    message = str(caught.value)
    assert f"botocore {botocore.__version__}" in message
    assert "no IfMatch parameter" in message
    assert "Lambda zip must bundle a newer SDK" in message

    # Without a client it inspects botocore's own model, the one a cold start would use.
    monkeypatch.setattr(session_module.botocore.session, "get_session", lambda: old_botocore)
    with pytest.raises(RuntimeUnsupportedError, match="no IfMatch parameter"):
        require_conditional_writes()
