"""Lambda entry point: wires settings, session, positions and ledger; nothing else.

One invocation: settings (validated once per cold start) -> cached assumed-role session for
account B -> the first ISS position source that answers with a valid, fresh position ->
append to the S3 log with a conditional write -> one JSON log line, and the result of
design.md ("Handler result"). On failure the JSON line carries the reason and the error is
re-raised, so Lambda's retry and on-failure machinery sees it.

One deadline (:mod:`crosstrack.reporter.deadline`) covers the invocation: Lambda's time
left minus a margin. AssumeRole and the live sources get what the offline source and the
write leave them; the write's botocore timeouts fit what is left. If not even the write fits,
the JSON line says ``"outcome": "timeout"`` and :class:`DeadlineExceededError` is raised
before Lambda's own timeout would end the function silently.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from crosstrack.reporter import ledger, positions, session
from crosstrack.reporter.deadline import (
    MIN_WRITE_SECONDS,
    OFFLINE_RESERVE_SECONDS,
    WRITE_RESERVE_SECONDS,
    Deadline,
    Monotonic,
)
from crosstrack.reporter.errors import DeadlineExceededError
from crosstrack.reporter.settings import Settings

# The handler's own error reason in its log line (source reasons are capped already).
MAX_LOGGED_REASON_CHARS = 2000
# An idempotency key is written into every jsonl record and kept as a digest: a real one
# (a UUID, a schedule ARN of at most 1600 characters plus a time) is far shorter.
MAX_KEY_CHARS = 2048
# No delivery arrives before its scheduled time; this allows for clock skew. A scheduled
# time further ahead than this does not choose the daily object (it would file the record
# under a day nobody reads); the position's time does.
MAX_SCHEDULE_AHEAD = timedelta(hours=1)


@dataclass
class _Runtime:
    """What survives between warm invocations of one Lambda execution environment."""

    settings: Settings
    sessions: session.CrossAccountSessions
    sources: list[positions.PositionSource]
    monotonic: Monotonic = time.monotonic


_runtime: _Runtime | None = None


def init(
    env: Mapping[str, str] | None = None,
    *,
    urls: Mapping[str, str] | None = None,
    sessions: session.CrossAccountSessions | None = None,
    clock: positions.Clock = positions.utc_now,
    monotonic: Monotonic = time.monotonic,
) -> None:
    """Build the warm state now, as a cold start does on the first invocation.

    Lambda never needs this: the first invocation calls it with ``os.environ``. It exists
    for callers that run the handler outside Lambda: ``urls`` points the live sources at
    other endpoints (recorded payloads in tests), ``sessions`` supplies the credential
    cache (a benchmark's injected clock), ``clock`` the sources' wall clock (a stale-TLE
    test) and ``monotonic`` the deadline's. Raises :class:`ConfigError` on a bad setting
    and :class:`RuntimeUnsupportedError` on a botocore without S3 conditional writes.
    """
    global _runtime  # noqa: PLW0603 - module state is how Lambda keeps warm caches
    settings = Settings.from_env(os.environ if env is None else env)
    session.require_conditional_writes()
    _runtime = _Runtime(
        settings=settings,
        sessions=sessions if sessions is not None else session.CrossAccountSessions(),
        sources=positions.build_sources(
            settings.iss_sources,
            timeout=settings.http_timeout_seconds,
            max_age_seconds=settings.max_position_age_seconds,
            max_tle_age_days=settings.max_tle_age_days,
            clock=clock,
            urls=urls,
        ),
        monotonic=monotonic,
    )


def reset() -> None:
    """Forget the warm state, as a new execution environment would."""
    global _runtime  # noqa: PLW0603
    _runtime = None


def _runtime_state() -> _Runtime:
    if _runtime is None:
        init()
    assert _runtime is not None
    return _runtime


def parse_event(event: object) -> tuple[str | None, datetime | None]:
    """Return the idempotency key and scheduled time of an event, or (None, None).

    Accepted (README, "Events and results"):

    * the Terraform schedule's input through EventBridge Scheduler, ``{"schedule_arn",
      "scheduled_time", "execution_id"}``: keyed on ``<schedule ARN>@<scheduled time>``,
      which every retried delivery repeats (an execution id is unique per *attempt*);
    * the older Scheduler input, ``{"execution_id", "scheduled_time"}``: keyed on
      ``execution_id``, as before;
    * an EventBridge rule "Scheduled Event" (``id``, ``time``): keyed on ``id``.

    Any other event (a manual ``{}``), one carrying Scheduler's placeholders unreplaced,
    a schedule input without a usable ARN and time, or a key field longer than
    :data:`MAX_KEY_CHARS`, has no key and always appends (see :func:`event_warning`).
    The time is None when missing, naive, unparseable or out of range in UTC.
    """
    if not isinstance(event, Mapping) or event_warning(event) is not None:
        return None, None
    if "schedule_arn" in event:
        when = _parse_time(event.get("scheduled_time"))
        assert when is not None  # event_warning() refuses the input otherwise
        return f"{event['schedule_arn']}@{_iso(when)}", when
    if isinstance(event.get("execution_id"), str) and event["execution_id"]:
        return event["execution_id"], _parse_time(event.get("scheduled_time"))
    if event.get("detail-type") == "Scheduled Event" and isinstance(event.get("id"), str):
        return event["id"], _parse_time(event.get("time"))
    return None, None


_SCHEDULER_FIELDS = ("schedule_arn", "scheduled_time", "execution_id")


def event_warning(event: object) -> str | None:
    """Why an event that looks scheduled gets no idempotency key, or None.

    Either a placeholder left unreplaced (:func:`placeholder_warning`), or a schedule
    input whose ``schedule_arn`` is not an ARN or whose ``scheduled_time`` is not a
    timezone-aware time: keying on a guess could drop a real run as a duplicate.
    """
    warning = placeholder_warning(event)
    if warning is not None or not isinstance(event, Mapping):
        return warning
    for name in ("schedule_arn", "execution_id", "id"):
        value = event.get(name)
        if isinstance(value, str) and len(value) > MAX_KEY_CHARS:
            return (
                f"{name} is {len(value)} characters (at most {MAX_KEY_CHARS}); appending "
                "without an idempotency key"
            )
    if "schedule_arn" not in event:
        return None
    arn = event.get("schedule_arn")
    if not isinstance(arn, str) or not arn.startswith("arn:") or any(c.isspace() for c in arn):
        return "schedule_arn is not an ARN; appending without an idempotency key"
    if _parse_time(event.get("scheduled_time")) is None:
        return (
            "scheduled_time is missing or not a timezone-aware ISO 8601 time; "
            "appending without an idempotency key"
        )
    return None


def placeholder_warning(event: object) -> str | None:
    """A warning when the event carries Scheduler's placeholders unreplaced.

    Scheduler substitutes ``<aws.scheduler.execution-id>`` (and the schedule ARN and
    scheduled time) in the target input's raw text, so an input whose ``<``/``>`` were
    escaped (Terraform's ``jsonencode`` does that) reaches the function with the literal
    placeholders: the same "key" on every run. Taking it as the idempotency key would drop
    every run after the first as a duplicate, so such an event gets no key (it always
    appends) and the log line says why.
    """
    if not isinstance(event, Mapping):
        return None
    for name in _SCHEDULER_FIELDS:
        value = event.get(name)
        if isinstance(value, str) and value.startswith("<aws.scheduler."):
            return (
                f"{name} is the unreplaced placeholder {value[:60]!r}: the schedule's input "
                "must contain the <aws.scheduler.*> placeholders literally (jsonencode escapes "
                "< and >); appending without an idempotency key"
            )
    return None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None  # a naive time is ambiguous; the position time is used instead
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+05:00 is before year 1 in UTC
        return None


def _log(fields: Mapping[str, object]) -> None:
    # One JSON object per line on stdout: Lambda ships it to CloudWatch Logs as is, and
    # Logs Insights parses it without a pattern.
    print(json.dumps(fields, default=str, sort_keys=True), file=sys.stdout, flush=True)


def _check(deadline: Deadline, needed: float, what: str) -> None:
    left = deadline.remaining()
    if left < needed:
        raise DeadlineExceededError(
            f"{max(left, 0):.1f} s left of the invocation (after a margin for this log line): "
            f"not enough to {what} (needs {needed:.1f} s); nothing was written. Raise the "
            "function's timeout or lower HTTP_TIMEOUT_SECONDS"
        )


def lambda_handler(event: object, context: object) -> dict[str, Any]:
    """Append the ISS position to the cross-account S3 log; see the module docstring."""
    started = time.monotonic()
    request_id = str(getattr(context, "aws_request_id", "") or uuid.uuid4())
    line: dict[str, object] = {"request_id": request_id}
    failures: dict[str, str] = {}
    try:
        runtime = _runtime_state()
        cfg = runtime.settings
        deadline = Deadline.from_context(context, clock=runtime.monotonic)
        if deadline.at is not None:
            line["budget_ms"] = round(deadline.remaining() * 1000)
        event_id, event_time = parse_event(event)
        line["event_id"] = event_id
        warning = event_warning(event)
        if warning is not None:
            line["warning"] = warning
        _check(deadline, MIN_WRITE_SECONDS, "start")
        session_name = session.role_session_name(cfg.role_session_prefix, request_id)
        # A cold start's AssumeRole gets what the sources' minimum and the write leave.
        reserve = WRITE_RESERVE_SECONDS + OFFLINE_RESERVE_SECONDS
        left = deadline.remaining()
        runtime.sessions.session(
            cfg.role_arn,
            external_id=cfg.external_id,
            session_name=session_name,
            budget=max(left - reserve, left / 2),
        )
        position, failures = positions.locate(
            runtime.sources, deadline=deadline.earlier(WRITE_RESERVE_SECONDS)
        )
        _check(deadline, MIN_WRITE_SECONDS, f"write the position from {position.source}")
        if event_time is not None and event_time > position.time + MAX_SCHEDULE_AHEAD:
            line["warning"] = (
                f"scheduled_time {_iso(event_time)} is ahead of the position's time "
                f"{_iso(position.time)}: the record's day is the position's"
            )
            event_time = None
        # Each round is a GetObject and a PutObject: each call gets half of what is left.
        s3 = runtime.sessions.s3(
            cfg.role_arn,
            external_id=cfg.external_id,
            session_name=session_name,
            region=cfg.bucket_region,
            budget=deadline.remaining() / 2,
        )
        book = ledger.Ledger(
            s3,
            cfg.bucket_name,
            cfg.object_key,
            log_format=cfg.log_format,
            layout=cfg.log_layout,
            time_left=deadline.remaining,
            round_seconds=2 * session.worst_case_seconds(s3.meta.config),
        )
        result = book.append(position, event_id=event_id, event_time=event_time)
    except Exception as exc:
        # Every failure, expected or not, leaves its reason in the log before Lambda sees it.
        line.update(
            outcome="timeout" if isinstance(exc, DeadlineExceededError) else "error",
            error=type(exc).__name__,
            reason=positions.cap_reason(str(exc), MAX_LOGGED_REASON_CHARS),
            source_failures=failures or getattr(exc, "failures", {}),
            latency_ms=round((time.monotonic() - started) * 1000, 1),
        )
        _log(line)
        raise
    verb = "already recorded" if result.duplicate else "appended"
    body = f"ISS position from {position.source} {verb} to s3://{result.bucket}/{result.key}" + (
        " (estimate from an old TLE)" if position.estimate else ""
    )
    details: dict[str, Any] = {
        "record": result.record,
        "source": position.source,
        "bucket": result.bucket,
        "key": result.key,
        "etag": result.etag,
        "version_id": result.version_id,
        "attempts": result.attempts,
        "created": result.created,
        "duplicate": result.duplicate,
        "estimate": position.estimate,
        "event_id": event_id,
    }
    line.update(
        outcome="duplicate" if result.duplicate else "appended",
        source_failures=failures,
        sts_calls=runtime.sessions.sts_calls,
        latency_ms=round((time.monotonic() - started) * 1000, 1),
        **details,
    )
    _log(line)
    return {"statusCode": 200, "body": body, **details}
