"""The global condition keys every request carries, from a client or an emulator service."""

from __future__ import annotations

import datetime as dt

from crosstrack.local.auth.actions import request_context


def test_current_time_is_utc_whatever_the_clock_s_zone() -> None:
    # aws:CurrentTime is compared with DateGreaterThan & co. as UTC
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
    local = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    context = request_context(local, secure=False, region="eu-west-1")
    assert context == {
        "aws:SecureTransport": "false",
        "aws:CurrentTime": "2025-01-02T01:04:05Z",
        "aws:EpochTime": str(int(local.timestamp())),
        "aws:RequestedRegion": "eu-west-1",
    }
