"""Reporter settings: defaults of design.md, and a specific error for every bad value."""

from __future__ import annotations

import pytest

from crosstrack.reporter.errors import ConfigError
from crosstrack.reporter.settings import Settings

ROLE = "arn:aws:iam::222222222222:role/access-s3-bucket"
BASE = {
    "ACCOUNT2_ROLE_ARN": ROLE,
    "BUCKET_NAME": "iss-reporting-20261127",
    "BUCKET_REGION": "us-east-1",
}


def test_defaults_are_the_documented_ones() -> None:
    s = Settings.from_env(BASE)
    assert s.role_arn == ROLE
    assert s.role_account == "222222222222"
    assert s.object_key == "iss_position.txt"
    assert s.log_format == "text"
    assert s.log_layout == "single"
    assert s.iss_sources == ("open-notify", "wheretheiss", "tle")
    assert s.external_id is None
    assert s.role_session_prefix == "crosstrack"
    assert s.http_timeout_seconds == 3.0
    assert s.max_position_age_seconds == 600
    assert s.max_tle_age_days == 14


def test_every_variable_is_read() -> None:
    s = Settings.from_env(
        {
            **BASE,
            "OBJECT_KEY": "logs/iss.jsonl",
            "LOG_FORMAT": "JSONL",
            "LOG_LAYOUT": "daily",
            "ISS_SOURCES": " tle , open-notify ",
            "EXTERNAL_ID": "crosstrack-7f3a",
            "ROLE_SESSION_PREFIX": "iss-reporter",
            "HTTP_TIMEOUT_SECONDS": "1.5",
            "MAX_POSITION_AGE_SECONDS": "120",
            "MAX_TLE_AGE_DAYS": "36500",
        }
    )
    assert s.object_key == "logs/iss.jsonl"
    assert s.log_format == "jsonl"
    assert s.log_layout == "daily"
    assert s.iss_sources == ("tle", "open-notify")
    assert s.external_id == "crosstrack-7f3a"
    assert s.role_session_prefix == "iss-reporter"
    assert s.http_timeout_seconds == 1.5
    assert s.max_position_age_seconds == 120
    assert s.max_tle_age_days == 36500


def test_role_with_path_and_gov_partition_is_accepted() -> None:
    arn = "arn:aws-us-gov:iam::222222222222:role/service/reporting/access-s3-bucket"
    assert Settings.from_env({**BASE, "ACCOUNT2_ROLE_ARN": arn}).role_arn == arn


def test_blank_optional_values_take_defaults() -> None:
    s = Settings.from_env({**BASE, "OBJECT_KEY": "  ", "EXTERNAL_ID": ""})
    assert s.object_key == "iss_position.txt"
    assert s.external_id is None


@pytest.mark.parametrize("missing", ["ACCOUNT2_ROLE_ARN", "BUCKET_NAME", "BUCKET_REGION"])
def test_required_variables(missing: str) -> None:
    env = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ConfigError, match=rf"^{missing} is required but not set$"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ACCOUNT2_ROLE_ARN", "access-s3-bucket", "not an IAM role ARN"),
        ("ACCOUNT2_ROLE_ARN", "arn:aws:iam::22222222222:role/x", "not an IAM role ARN"),
        ("ACCOUNT2_ROLE_ARN", "arn:aws:iam::222222222222:user/x", "not an IAM role ARN"),
        ("ACCOUNT2_ROLE_ARN", "arn:aws:sts::222222222222:assumed-role/r/s", "not an IAM role ARN"),
        ("BUCKET_NAME", "s3://iss-reporting-x", "a URI or ARN, not a bucket name"),
        ("BUCKET_NAME", "ISS-Reporting", "not a valid S3 bucket name"),
        ("BUCKET_NAME", "ab", "not a valid S3 bucket name"),
        ("BUCKET_NAME", "iss..reporting", "not a valid S3 bucket name"),
        ("BUCKET_NAME", "192.168.10.20", "not a valid S3 bucket name"),
        ("BUCKET_REGION", "US-EAST-1", "not an AWS region code"),
        ("BUCKET_REGION", "useast1", "not an AWS region code"),
        ("OBJECT_KEY", "/iss_position.txt", "starts or ends with '/'"),
        ("OBJECT_KEY", "logs/", "starts or ends with '/'"),
        ("OBJECT_KEY", "a\nb", "contains control characters"),
        ("OBJECT_KEY", "k" * 901, "longer than 900 bytes"),
        ("LOG_FORMAT", "csv", "not a known value"),
        ("LOG_LAYOUT", "hourly", "not a known value"),
        ("ISS_SOURCES", "open-notify,,tle", "has an empty entry"),
        ("ISS_SOURCES", "open-notify,n2yo", "unknown source 'n2yo'"),
        ("ISS_SOURCES", "tle,tle", "names a source twice"),
        ("EXTERNAL_ID", "x", "not a valid sts:ExternalId"),
        ("EXTERNAL_ID", "has space", "not a valid sts:ExternalId"),
        ("ROLE_SESSION_PREFIX", "bad prefix", "not a valid RoleSessionName prefix"),
        ("ROLE_SESSION_PREFIX", "p" * 33, "not a valid RoleSessionName prefix"),
        ("HTTP_TIMEOUT_SECONDS", "three", "not a number"),
        ("HTTP_TIMEOUT_SECONDS", "0", "out of range"),
        ("HTTP_TIMEOUT_SECONDS", "nan", "out of range"),
        ("HTTP_TIMEOUT_SECONDS", "31", "out of range"),
        ("MAX_POSITION_AGE_SECONDS", "10.5", "not a whole number"),
        ("MAX_POSITION_AGE_SECONDS", "5", "out of range"),
        ("MAX_POSITION_AGE_SECONDS", "\u0666\u0660\u0660", "not a whole number"),
        ("MAX_TLE_AGE_DAYS", "0", "out of range"),
        ("MAX_TLE_AGE_DAYS", "36501", "out of range"),
        ("MAX_TLE_AGE_DAYS", "14.5", "not a whole number"),
        ("MAX_TLE_AGE_DAYS", "1_4", "not a whole number"),
        ("MAX_TLE_AGE_DAYS", "fortnight", "not a whole number"),
    ],
)
def test_bad_values_name_variable_problem_and_expected_form(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({**BASE, name: value})
    text = str(info.value)
    assert text.startswith(f"{name}={value.strip()!r}: {message}; expected ")
    if name == "MAX_TLE_AGE_DAYS":
        assert text.endswith("expected a whole number of days from 1 to 36500")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "ACCOUNT2_ROLE_ARN",
            "role/x",
            "ACCOUNT2_ROLE_ARN='role/x': not an IAM role ARN; "
            "expected arn:aws:iam::<12-digit account id>:role/<name>",
        ),
        (
            "BUCKET_REGION",
            "east",
            "BUCKET_REGION='east': not an AWS region code; expected a region such as us-east-1",
        ),
        (
            "EXTERNAL_ID",
            "x",
            "EXTERNAL_ID='x': not a valid sts:ExternalId; "
            "expected 2-1224 characters of letters, digits and +=,.@:/-",
        ),
        (
            "ROLE_SESSION_PREFIX",
            "a b",
            "ROLE_SESSION_PREFIX='a b': not a valid RoleSessionName prefix; "
            "expected 1-32 characters of letters, digits and +=,.@-_",
        ),
    ],
)
def test_a_value_of_the_wrong_form_is_refused_with_the_whole_message(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({**BASE, name: value})
    assert str(info.value) == message
