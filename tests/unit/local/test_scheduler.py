"""The local scheduler's expression and input handling (EventBridge Scheduler semantics)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from crosstrack.local.run.scheduler import ScheduleError, parse_rate, render_input, tick_time


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


def test_design_input_gets_all_three_attributes() -> None:
    # infra/'s schedule input, byte for byte (design.md, Events).
    template = (
        '{"schedule_arn":"<aws.scheduler.schedule-arn>",'
        '"scheduled_time":"<aws.scheduler.scheduled-time>",'
        '"execution_id":"<aws.scheduler.execution-id>"}'
    )
    arn = "arn:aws:scheduler:us-east-1:111111111111:schedule/default/write-report"
    when = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
    rendered = render_input(
        template, schedule_arn=arn, scheduled_time=when, execution_id="d32c5kddcf5bb8c3", attempt=2
    )
    assert "<aws.scheduler." not in rendered
    assert json.loads(rendered) == {
        "schedule_arn": arn,
        "scheduled_time": "2026-01-01T00:05:00Z",
        "execution_id": "d32c5kddcf5bb8c3",
    }


def test_ticks_are_stamped_start_plus_n_rates_however_fast_they_fire() -> None:
    start = datetime(2026, 1, 1, 23, 55, tzinfo=UTC)
    rate = parse_rate("rate(5 minutes)")
    stamps = [tick_time(start, n, rate) for n in range(3)]
    assert stamps == [
        start,
        datetime(2026, 1, 2, 0, 0, tzinfo=UTC),
        datetime(2026, 1, 2, 0, 5, tzinfo=UTC),
    ]
    assert len(set(stamps)) == 3  # distinct idempotency keys, even fired in one second
    with pytest.raises(ValueError, match="0 or more"):
        tick_time(start, -1, rate)
