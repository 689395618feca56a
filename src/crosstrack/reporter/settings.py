"""Validated reporter configuration, read from the Lambda environment.

The variable names and defaults are a contract (design.md, "Reporter configuration"; the
README has the same table). Every invalid value fails at cold start with a message that
names the variable, what is wrong with the value, and the expected form, so a bad deploy
is caught by the first invocation's log line rather than by a mysterious AWS error later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from crosstrack.reporter.errors import ConfigError

# Environment variable names: the one place they are spelled.
ACCOUNT2_ROLE_ARN: Final = "ACCOUNT2_ROLE_ARN"
BUCKET_NAME: Final = "BUCKET_NAME"
BUCKET_REGION: Final = "BUCKET_REGION"
OBJECT_KEY: Final = "OBJECT_KEY"
LOG_FORMAT: Final = "LOG_FORMAT"
LOG_LAYOUT: Final = "LOG_LAYOUT"
ISS_SOURCES: Final = "ISS_SOURCES"
EXTERNAL_ID: Final = "EXTERNAL_ID"
ROLE_SESSION_PREFIX: Final = "ROLE_SESSION_PREFIX"
HTTP_TIMEOUT_SECONDS: Final = "HTTP_TIMEOUT_SECONDS"
MAX_POSITION_AGE_SECONDS: Final = "MAX_POSITION_AGE_SECONDS"
MAX_TLE_AGE_DAYS: Final = "MAX_TLE_AGE_DAYS"

LogFormat = Literal["text", "jsonl"]
LogLayout = Literal["single", "daily"]

KNOWN_SOURCES: Final = ("open-notify", "wheretheiss", "tle")

DEFAULTS: Final[Mapping[str, str]] = {
    OBJECT_KEY: "iss_position.txt",
    LOG_FORMAT: "text",
    LOG_LAYOUT: "single",
    ISS_SOURCES: ",".join(KNOWN_SOURCES),
    ROLE_SESSION_PREFIX: "crosstrack",
    HTTP_TIMEOUT_SECONDS: "3",
    MAX_POSITION_AGE_SECONDS: "600",
    MAX_TLE_AGE_DAYS: "14",
}

# IAM role ARN: partition, 12-digit account, optional path, name of [\w+=,.@-]{1,64}.
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html
_ROLE_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f|-eusc)?:iam::\d{12}:role/"
    r"(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,64}$"
)
# General-purpose bucket names: 3-63 chars, lowercase letters, digits, dots and hyphens,
# starting and ending with a letter or digit, not shaped like an IP address.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_LIKE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
# sts:ExternalId: 2-1224 chars of [\w+=,.@:/-].
# https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
# RoleSessionName charset; the prefix leaves room for a request-id fragment in 64 chars.
_SESSION_PREFIX = re.compile(r"^[\w+=,.@-]{1,32}$")


@dataclass(frozen=True)
class _Form:
    """The form a variable's value must match, and how an error message describes it."""

    pattern: re.Pattern[str]
    problem: str
    expected: str


# The variables whose values are checked against a pattern alone.
_FORMS: Final[Mapping[str, _Form]] = {
    ACCOUNT2_ROLE_ARN: _Form(
        _ROLE_ARN, "not an IAM role ARN", "arn:aws:iam::<12-digit account id>:role/<name>"
    ),
    BUCKET_REGION: _Form(_REGION, "not an AWS region code", "a region such as us-east-1"),
    EXTERNAL_ID: _Form(
        _EXTERNAL_ID,
        "not a valid sts:ExternalId",
        "2-1224 characters of letters, digits and +=,.@:/-",
    ),
    ROLE_SESSION_PREFIX: _Form(
        _SESSION_PREFIX,
        "not a valid RoleSessionName prefix",
        "1-32 characters of letters, digits and +=,.@-_",
    ),
}


@dataclass(frozen=True)
class Settings:
    """The reporter's configuration; build it with :meth:`from_env`."""

    role_arn: str
    bucket_name: str
    bucket_region: str
    object_key: str = DEFAULTS[OBJECT_KEY]
    log_format: LogFormat = "text"
    log_layout: LogLayout = "single"
    iss_sources: tuple[str, ...] = KNOWN_SOURCES
    external_id: str | None = None
    role_session_prefix: str = DEFAULTS[ROLE_SESSION_PREFIX]
    http_timeout_seconds: float = 3.0
    max_position_age_seconds: int = 600
    max_tle_age_days: int = 14

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and validate every variable; raise :class:`ConfigError` on the first bad one."""

        def get(name: str) -> str:
            value = env.get(name)
            if value is None or value.strip() == "":
                if name in DEFAULTS:
                    return DEFAULTS[name]
                raise ConfigError(f"{name} is required but not set")
            return value.strip()

        def opt(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def matching(name: str) -> str:
            return _matching(name, get(name))

        external_id = opt(EXTERNAL_ID)
        return cls(
            role_arn=matching(ACCOUNT2_ROLE_ARN),
            bucket_name=_bucket(get(BUCKET_NAME)),
            bucket_region=matching(BUCKET_REGION),
            object_key=_object_key(get(OBJECT_KEY)),
            log_format=_choice(LOG_FORMAT, get(LOG_FORMAT), ("text", "jsonl")),  # type: ignore[arg-type]
            log_layout=_choice(LOG_LAYOUT, get(LOG_LAYOUT), ("single", "daily")),  # type: ignore[arg-type]
            iss_sources=_sources(get(ISS_SOURCES)),
            external_id=None if external_id is None else _matching(EXTERNAL_ID, external_id),
            role_session_prefix=matching(ROLE_SESSION_PREFIX),
            http_timeout_seconds=_number(
                HTTP_TIMEOUT_SECONDS, get(HTTP_TIMEOUT_SECONDS), low=0.1, high=30.0
            ),
            max_position_age_seconds=int(
                _number(
                    MAX_POSITION_AGE_SECONDS,
                    get(MAX_POSITION_AGE_SECONDS),
                    low=10,
                    high=86_400,
                    integer=True,
                )
            ),
            # SGP4's error grows by kilometres a day: 14 days is already tens of km. The
            # upper end (100 years) lets a local demo run on the bundled TLE on purpose.
            max_tle_age_days=int(
                _number(
                    MAX_TLE_AGE_DAYS,
                    get(MAX_TLE_AGE_DAYS),
                    low=1,
                    high=36_500,
                    integer=True,
                    unit="days",
                )
            ),
        )

    @property
    def role_account(self) -> str:
        """The 12-digit account id of role B (account B)."""
        return self.role_arn.split(":")[4]


def _bad(name: str, value: str, problem: str, expected: str) -> ConfigError:
    return ConfigError(f"{name}={value!r}: {problem}; expected {expected}")


def _matching(name: str, value: str) -> str:
    """``value``, if it has the form ``_FORMS[name]``; else :class:`ConfigError`."""
    form = _FORMS[name]
    if not form.pattern.match(value):
        raise _bad(name, value, form.problem, form.expected)
    return value


def _bucket(value: str) -> str:
    if value.startswith(("s3://", "arn:")):
        raise _bad(BUCKET_NAME, value, "a URI or ARN, not a bucket name", "the bare bucket name")
    if not _BUCKET.match(value) or ".." in value or _IP_LIKE.match(value):
        raise _bad(
            BUCKET_NAME,
            value,
            "not a valid S3 bucket name",
            "3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit",  # noqa: E501
        )
    return value


def _object_key(value: str) -> str:
    if value.startswith("/") or value.endswith("/"):
        raise _bad(
            OBJECT_KEY,
            value,
            "starts or ends with '/'",
            "a key such as iss_position.txt or logs/iss_position.txt",
        )
    if len(value.encode()) > 900:
        # S3 keys are at most 1024 bytes; the daily layout appends /YYYY/MM/DD.
        raise _bad(OBJECT_KEY, value, "longer than 900 bytes", "a shorter key")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise _bad(OBJECT_KEY, value, "contains control characters", "printable characters")
    return value


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    lowered = value.lower()
    if lowered not in allowed:
        raise _bad(name, value, "not a known value", " or ".join(repr(a) for a in allowed))
    return lowered


def _sources(value: str) -> tuple[str, ...]:
    names = tuple(part.strip().lower() for part in value.split(","))
    expected = f"a comma-separated, ordered subset of {','.join(KNOWN_SOURCES)}"
    if any(not n for n in names):
        raise _bad(ISS_SOURCES, value, "has an empty entry", expected)
    unknown = [n for n in names if n not in KNOWN_SOURCES]
    if unknown:
        raise _bad(ISS_SOURCES, value, f"unknown source {unknown[0]!r}", expected)
    if len(set(names)) != len(names):
        raise _bad(ISS_SOURCES, value, "names a source twice", expected)
    return names


def _number(
    name: str,
    value: str,
    *,
    low: float,
    high: float,
    integer: bool = False,
    unit: str = "seconds",
) -> float:
    kind = "a whole number" if integer else "a number"
    expected = f"{kind} of {unit} from {low:g} to {high:g}"
    # ASCII digits only: int() and float() also take other scripts' digits, "nan", "1_0".
    if not value.isascii() or "_" in value:
        raise _bad(name, value, f"not {kind}", expected)
    try:
        number = float(int(value)) if integer else float(value)
    except ValueError:
        raise _bad(name, value, f"not {kind}", expected) from None
    if not (low <= number <= high):  # also false for NaN
        raise _bad(name, value, "out of range", expected)
    return number
