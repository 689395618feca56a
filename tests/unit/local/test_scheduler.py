"""The local scheduler's expression and input handling (EventBridge Scheduler semantics)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from crosstrack.local.scheduler import ScheduleError, parse_rate, render_input


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(2 hours)", timedelta(hours=2)),
        ("rate(1 day)", timedelta(days=1)),
    ],
)
def test_rate_expressions(expression: str, interval: timedelta) -> None:
    assert parse_rate(expression) == interval


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0/5 * * * ? *)", "not supported locally"),
        ("rate(0 minutes)", "at least 1"),
        ("rate(1 minutes)", "singular unit for 1 only"),
        ("rate(5 minute)", "singular unit for 1 only"),
    ],
)
def test_unsupported_or_invalid_expressions(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_rate(expression)


def test_context_attributes_are_replaced_in_the_raw_text() -> None:
    template = (
        '{"execution_id":"<aws.scheduler.execution-id>",'
        '"scheduled_time":"<aws.scheduler.scheduled-time>",'
        '"arn":"<aws.scheduler.schedule-arn>","n":"<aws.scheduler.attempt-number>"}'
    )
    when = datetime(2026, 11, 28, 2, 5, tzinfo=timezone(timedelta(hours=2)))
    payload = json.loads(
        render_input(
            template, schedule_arn="arn:s", scheduled_time=when, execution_id="e1", attempt=1
        )
    )
    assert payload == {
        "execution_id": "e1",
        "scheduled_time": "2026-11-28T00:05:00Z",
        "arn": "arn:s",
        "n": "1",
    }


def test_escaped_placeholders_are_not_replaced() -> None:
    # What jsonencode() produces: Scheduler matches the raw text, so nothing is substituted.
    template = '{"execution_id":"\\u003caws.scheduler.execution-id\\u003e"}'
    rendered = render_input(
        template, schedule_arn="a", scheduled_time=datetime.now(UTC), execution_id="e", attempt=1
    )
    assert json.loads(rendered) == {"execution_id": "<aws.scheduler.execution-id>"}
