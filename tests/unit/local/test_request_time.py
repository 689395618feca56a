"""AWS's clock rules: 15 minutes for header signatures, X-Amz-Expires (≤ 7 days) for URLs."""

from __future__ import annotations

import datetime as dt

import pytest

from crosstrack.local.auth.request_time import check
from crosstrack.local.auth.sigv4 import SignedRequest

NOW = dt.datetime(2026, 11, 27, 12, 0, 0, tzinfo=dt.UTC)


def _signed(at: dt.datetime, *, expires: int | None = None) -> SignedRequest:
    return SignedRequest(
        access_key_id="AKIA",
        scope_date=at.strftime("%Y%m%d"),
        region="us-east-1",
        service="sts",
        signed_headers=("host",),
        signature="x",
        amz_date=at.strftime("%Y%m%dT%H%M%SZ"),
        session_token=None,
        presigned=expires is not None,
        expires_seconds=expires,
    )


@pytest.mark.parametrize("minutes", [-15, -1, 0, 1, 15])
def test_header_signatures_within_15_minutes_are_current(minutes: int) -> None:
    assert check(_signed(NOW + dt.timedelta(minutes=minutes)), NOW) is None


def test_a_header_signature_20_minutes_old_has_expired_with_aws_s_message() -> None:
    problem = check(_signed(NOW - dt.timedelta(minutes=20)), NOW)
    assert problem is not None
    assert problem.kind == "skewed"
    assert problem.message == (
        "Signature expired: 20261127T114000Z is now earlier than 20261127T114500Z "
        "(20261127T120000Z - 15 min.)"
    )


def test_a_header_signature_from_the_future_is_not_yet_current() -> None:
    problem = check(_signed(NOW + dt.timedelta(minutes=16)), NOW)
    assert problem is not None
    assert problem.message.startswith("Signature not yet current: 20261127T121600Z")


def test_presigned_urls_follow_x_amz_expires_not_the_skew() -> None:
    issued = NOW - dt.timedelta(days=6)
    assert check(_signed(issued, expires=604800), NOW) is None
    expired = check(_signed(NOW - dt.timedelta(seconds=61), expires=60), NOW)
    assert expired is not None
    assert (expired.kind, expired.message) == ("expired", "Request has expired")


def test_presigned_urls_live_at_most_seven_days() -> None:
    problem = check(_signed(NOW, expires=604801), NOW)
    assert problem is not None
    assert problem.kind == "parameters"
    assert "604800" in problem.message
