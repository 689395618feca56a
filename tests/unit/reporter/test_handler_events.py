"""Which events carry an idempotency key (design.md, Events)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crosstrack.reporter.handler import event_warning, parse_event, placeholder_warning

SCHEDULER_EVENT = {
    "execution_id": "c0e5b6f2-6d3c-4f43-9d5f-1f3b2a0a9e11",
    "scheduled_time": "2026-11-27T23:05:00Z",
}
RULE_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "111111111111",
    "time": "2026-11-27T23:10:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:111111111111:rule/iss"],
    "detail": {},
}


def test_scheduler_input_is_keyed_by_execution_id() -> None:
    assert parse_event(SCHEDULER_EVENT) == (
        "c0e5b6f2-6d3c-4f43-9d5f-1f3b2a0a9e11",
        datetime(2026, 11, 27, 23, 5, tzinfo=UTC),
    )


def test_rule_scheduled_event_is_keyed_by_event_id() -> None:
    assert parse_event(RULE_EVENT) == (
        "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        datetime(2026, 11, 27, 23, 10, tzinfo=UTC),
    )


def test_offsets_are_normalised_to_utc() -> None:
    event = {**SCHEDULER_EVENT, "scheduled_time": "2026-11-28T01:05:00+02:00"}
    assert parse_event(event)[1] == datetime(2026, 11, 27, 23, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "event",
    [
        {},
        None,
        [],
        "execution_id",
        {"execution_id": ""},
        {"execution_id": 42},
        {"id": "x", "detail-type": "Object Created"},  # not a schedule: no key
    ],
)
def test_other_events_have_no_key_and_always_append(event: object) -> None:
    assert parse_event(event) == (None, None)


@pytest.mark.parametrize("bad_time", ["yesterday", "2026-11-27T23:05:00", 1764284700, None])
def test_unusable_scheduled_time_keeps_the_key_but_not_the_time(bad_time: object) -> None:
    # A naive or malformed time is never guessed at: the ledger then dates by the position.
    key, when = parse_event({**SCHEDULER_EVENT, "scheduled_time": bad_time})
    assert key == SCHEDULER_EVENT["execution_id"]
    assert when is None


def test_unreplaced_scheduler_placeholder_is_not_an_idempotency_key() -> None:
    # What a jsonencode()d Scheduler input delivers: the same literal "id" on every run.
    # Taking it as the key would drop every run after the first as a duplicate.
    event = {
        "execution_id": "<aws.scheduler.execution-id>",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }
    assert parse_event(event) == (None, None)
    warning = placeholder_warning(event)
    assert warning is not None
    assert "jsonencode escapes < and >" in warning
    assert placeholder_warning(SCHEDULER_EVENT) is None


SCHEDULE_INPUT = {
    "schedule_arn": "arn:aws:scheduler:us-east-1:111111111111:schedule/default/iss-reporter",
    "scheduled_time": "2026-11-27T23:05:00Z",
    "execution_id": "d32c5kddcf5bb8c3",
}


def test_schedule_input_is_keyed_by_schedule_arn_and_scheduled_time() -> None:
    key, when = parse_event(SCHEDULE_INPUT)
    assert key == f"{SCHEDULE_INPUT['schedule_arn']}@2026-11-27T23:05:00Z"
    assert when == datetime(2026, 11, 27, 23, 5, tzinfo=UTC)
    # Scheduler's retry of the same run: a new execution id, the same key.
    assert parse_event({**SCHEDULE_INPUT, "execution_id": "0f3b9a1c2d4e5f60"})[0] == key
    # The same instant written with an offset is the same run.
    shifted = {**SCHEDULE_INPUT, "scheduled_time": "2026-11-28T01:05:00+02:00"}
    assert parse_event(shifted)[0] == key


@pytest.mark.parametrize("field", ["schedule_arn", "scheduled_time", "execution_id"])
def test_any_unreplaced_placeholder_refuses_the_key(field: str) -> None:
    event = {**SCHEDULE_INPUT, field: f"<aws.scheduler.{field.replace('_', '-')}>"}
    assert parse_event(event) == (None, None)
    warning = event_warning(event)
    assert warning is not None
    assert warning.startswith(f"{field} is the unreplaced placeholder")


@pytest.mark.parametrize(
    ("change", "warning"),
    [
        ({"schedule_arn": "iss-reporter"}, "schedule_arn is not an ARN"),
        ({"schedule_arn": 7}, "schedule_arn is not an ARN"),
        ({"scheduled_time": "2026-11-27T23:05:00"}, "scheduled_time is missing or not"),
        ({"scheduled_time": None}, "scheduled_time is missing or not"),
    ],
)
def test_a_schedule_input_without_arn_and_time_gets_no_key(
    change: dict[str, object], warning: str
) -> None:
    # Keying on a guess could drop a real run as a duplicate: append, and say why.
    event = {**SCHEDULE_INPUT, **change}
    assert parse_event(event) == (None, None)
    assert (event_warning(event) or "").startswith(warning)
    assert event_warning(SCHEDULE_INPUT) is None


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_scheduled_time_out_of_range_in_utc_is_unusable_not_a_crash(when: str) -> None:
    # fromisoformat accepts these; converting them to UTC overflows datetime.
    new_shape = {
        "schedule_arn": "arn:aws:scheduler:us-east-1:111111111111:schedule/default/iss",
        "scheduled_time": when,
        "execution_id": "e1",
    }
    assert parse_event(new_shape) == (None, None)
    assert "scheduled_time" in (event_warning(new_shape) or "")
    assert parse_event({**SCHEDULER_EVENT, "scheduled_time": when}) == (
        SCHEDULER_EVENT["execution_id"],
        None,
    )
    assert parse_event({**RULE_EVENT, "time": when}) == (RULE_EVENT["id"], None)


@pytest.mark.parametrize(
    "event",
    [
        {**SCHEDULER_EVENT, "execution_id": "x" * 5000},
        {**RULE_EVENT, "id": "x" * 5000},
        {
            "schedule_arn": "arn:aws:scheduler:us-east-1:1:schedule/default/" + "x" * 5000,
            "scheduled_time": "2026-11-27T23:05:00Z",
            "execution_id": "e1",
        },
    ],
)
def test_an_oversized_key_is_refused_with_a_warning(event: dict[str, object]) -> None:
    # The key is written into every jsonl record: a 5,000-character id would be too.
    assert parse_event(event) == (None, None)
    assert "idempotency key" in (event_warning(event) or "")
