"""Lambda entry point: wires settings, session, positions and ledger; nothing else.

One invocation: settings (validated once per cold start) -> cached assumed-role session for
account B -> the first ISS position source that answers with a valid, fresh position ->
append to the S3 log with a conditional write -> one JSON log line, and the result of
design.md ("Handler result"). On failure the JSON line carries the reason and the error is
re-raised, so Lambda's retry and on-failure machinery sees it.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crosstrack.reporter import ledger, positions, session
from crosstrack.reporter.settings import Settings


@dataclass
class _Runtime:
    """What survives between warm invocations of one Lambda execution environment."""

    settings: Settings
    sessions: session.CrossAccountSessions
    sources: list[positions.PositionSource]


_runtime: _Runtime | None = None


def init(
    env: Mapping[str, str] | None = None,
    *,
    urls: Mapping[str, str] | None = None,
    sessions: session.CrossAccountSessions | None = None,
) -> None:
    """Build the warm state now, as a cold start does on the first invocation.

    Lambda never needs this: the first invocation calls it with ``os.environ``. It exists
    for callers that run the handler outside Lambda: ``urls`` points the live sources at
    other endpoints (recorded payloads in tests), ``sessions`` supplies the credential
    cache (a benchmark's injected clock). Raises :class:`ConfigError` on a bad setting and
    :class:`RuntimeUnsupportedError` on a botocore without S3 conditional writes.
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
            urls=urls,
        ),
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

    Accepted: an EventBridge rule "Scheduled Event" (``id``, ``time``) and the input the
    Terraform schedule sends through EventBridge Scheduler (``execution_id``,
    ``scheduled_time``). Any other event (a manual ``{}``) has no key and always appends.
    """
    if not isinstance(event, Mapping):
        return None, None
    if placeholder_warning(event) is not None:
        return None, None
    if isinstance(event.get("execution_id"), str) and event["execution_id"]:
        return event["execution_id"], _parse_time(event.get("scheduled_time"))
    if event.get("detail-type") == "Scheduled Event" and isinstance(event.get("id"), str):
        return event["id"], _parse_time(event.get("time"))
    return None, None


def placeholder_warning(event: object) -> str | None:
    """A warning when the event carries Scheduler's placeholders unreplaced.

    Scheduler substitutes ``<aws.scheduler.execution-id>`` in the target input's raw text,
    so an input whose ``<``/``>`` were escaped (Terraform's ``jsonencode`` does that) reaches
    the function with the literal placeholder: the same "id" on every run. Taking it as the
    idempotency key would drop every run after the first as a duplicate, so such an event
    gets no key (it always appends) and the log line says why.
    """
    if not isinstance(event, Mapping):
        return None
    value = event.get("execution_id")
    if isinstance(value, str) and value.startswith("<aws.scheduler."):
        return (
            f"execution_id is the unreplaced placeholder {value!r}: the schedule's input must "
            "contain <aws.scheduler.execution-id> literally (jsonencode escapes < and >); "
            "appending without an idempotency key"
        )
    return None


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None  # a naive time is ambiguous; the position time is used instead
    return parsed.astimezone(UTC)


def _log(fields: Mapping[str, object]) -> None:
    # One JSON object per line on stdout: Lambda ships it to CloudWatch Logs as is, and
    # Logs Insights parses it without a pattern.
    print(json.dumps(fields, default=str, sort_keys=True), file=sys.stdout, flush=True)


def lambda_handler(event: object, context: object) -> dict[str, Any]:
    """Append the ISS position to the cross-account S3 log; see the module docstring."""
    started = time.monotonic()
    request_id = str(getattr(context, "aws_request_id", "") or uuid.uuid4())
    line: dict[str, object] = {"request_id": request_id}
    failures: dict[str, str] = {}
    try:
        runtime = _runtime_state()
        cfg = runtime.settings
        event_id, event_time = parse_event(event)
        line["event_id"] = event_id
        warning = placeholder_warning(event)
        if warning is not None:
            line["warning"] = warning
        s3 = runtime.sessions.s3(
            cfg.role_arn,
            external_id=cfg.external_id,
            session_name=session.role_session_name(cfg.role_session_prefix, request_id),
            region=cfg.bucket_region,
        )
        position, failures = positions.locate(runtime.sources)
        book = ledger.Ledger(
            s3,
            cfg.bucket_name,
            cfg.object_key,
            log_format=cfg.log_format,
            layout=cfg.log_layout,
        )
        result = book.append(position, event_id=event_id, event_time=event_time)
    except Exception as exc:
        # Every failure, expected or not, leaves its reason in the log before Lambda sees it.
        line.update(
            outcome="error",
            error=type(exc).__name__,
            reason=str(exc),
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
