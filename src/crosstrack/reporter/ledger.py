"""The S3 log: one read-append-write per invocation, safe under concurrency and replays.

The record formats live in records.py, the ring of recorded event ids in idempotency.py.

What it fixes in the original (field-notes.md, defects 1, 2 and 5):

* the object is created by the reporter itself when missing (``If-None-Match: *``), with
  ``ContentType`` set, so nothing depends on a Terraform-managed header object;
* every write is conditional on the ETag that was read (``If-Match``): an overlapping
  writer makes it fail with 412 instead of silently erasing a record, and the append is
  retried on a fresh read with jittered exponential backoff;
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
* an event that is delivered twice (EventBridge and async Lambda are at-least-once) is
  recorded once: the object's user metadata carries a ring of recent event-id digests;
* a 403 on read is a permission problem, never a missing object;
* an object that is not a log (not UTF-8, wrong header) is never overwritten;
* the ``daily`` layout bounds the bytes moved per invocation to one day of records.

Formats (design.md, "Log object"):

* ``text`` (ContentType ``text/plain; charset=utf-8``): the header ``ISS Location Logs``,
  a line of ``=``, a blank line, then per record ``Time:``, ``Latitude:``, ``Longitude:``
  lines and a blank line; UTC; 4 decimals. Objects written by the original are accepted.
* ``jsonl`` (ContentType ``application/x-ndjson; charset=utf-8``, the de-facto type of
  newline-delimited JSON): no header, one JSON object per line with full provenance.

Imports: standard library and botocore's exceptions; the S3 client is passed in (this ships
in the Lambda zip).
"""

from __future__ import annotations

import json
import posixpath
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from crosstrack.reporter import idempotency
from crosstrack.reporter.errors import (
    DeadlineExceededError,
    LedgerError,
    LogAccessDeniedError,
    LogConflictError,
    LogCorruptError,
)
from crosstrack.reporter.positions import Position
from crosstrack.reporter.records import (
    CONTENT_TYPES,
    HEADER,
    HEADER_LINES,
    as_utc,
    format_jsonl_record,
    format_text_record,
)
from crosstrack.reporter.settings import LogFormat, LogLayout

DEFAULT_MAX_ATTEMPTS: Final = 12
# Full-jitter exponential backoff: sleep U(0, min(cap, base * 2**n)). Spreads competing
# writers apart instead of having them collide again in lockstep.
# https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
_BACKOFF_BASE: Final = 0.05
_BACKOFF_CAP: Final = 1.0


@dataclass(frozen=True)
class AppendResult:
    """What one :meth:`Ledger.append` did.

    ``record`` is the text appended (or that would have been, for a duplicate).
    ``attempts`` counts read-write rounds (1 without contention). ``bytes_read`` and
    ``bytes_written`` are object-body bytes over all rounds: what the invocation moved.
    """

    bucket: str
    key: str
    record: str
    etag: str | None
    version_id: str | None
    attempts: int
    created: bool
    duplicate: bool
    bytes_read: int
    bytes_written: int


@dataclass(frozen=True)
class _Current:
    body: bytes
    etag: str
    version_id: str | None
    metadata: dict[str, str]


@dataclass(frozen=True)
class _Stored:
    """The object version that holds the record: just written, or found holding it already."""

    etag: str | None
    version_id: str | None


def _error_parts(exc: ClientError) -> tuple[str, int, str]:
    error = exc.response.get("Error", {})
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return str(error.get("Code", "")), status, str(error.get("Message", "") or "")


@dataclass(frozen=True)
class _S3Call:
    """One S3 call of the protocol, as its failures describe it.

    ``action`` is the IAM action, ``doing`` what the call does to the log ("reading"),
    ``needs`` what a denied caller must be granted.
    """

    action: str
    doing: str
    needs: str

    def error(self, where: str, exc: ClientError | BotoCoreError) -> LedgerError:
        """The ledger's error for a failure of this call on ``where`` (``s3://bucket/key``).

        A 403 is :class:`LogAccessDeniedError`: a permission problem, never a missing object.
        """
        if isinstance(exc, BotoCoreError):
            return LedgerError(f"{where}: {self.doing} the log failed: {exc}")
        code, status, message = _error_parts(exc)
        if status == 403 or code in {"AccessDenied", "Forbidden"}:
            return LogAccessDeniedError(
                f"{where}: s3:{self.action} was denied ({status} {code}: "
                f"{message or 'no message'}). {self.needs}"
            )
        return LedgerError(f"{where}: {self.doing} the log failed ({status} {code}: {message})")


# Without s3:ListBucket, S3 answers 403 for a missing key as well, so a 403 on read can
# never be taken for "create it".
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
_GET: Final = _S3Call(
    "GetObject",
    "reading",
    "The role needs s3:GetObject on this key (and kms:Decrypt if the bucket uses SSE-KMS), "
    "the bucket policy must not deny it; without s3:ListBucket S3 also answers 403 for a key "
    "that does not exist",
)
_PUT: Final = _S3Call(
    "PutObject",
    "writing",
    "The role needs s3:PutObject on this key (and kms:GenerateDataKey if the bucket uses "
    "SSE-KMS); the bucket policy must not deny it",
)


def _lost_the_race(exc: ClientError, condition: Mapping[str, str]) -> bool:
    """Whether a failed conditional PutObject means "re-read and try again"."""
    code, status, _ = _error_parts(exc)
    # 412: the ETag changed (If-Match) or the object appeared (If-None-Match).
    # 409 ConditionalRequestConflict: a concurrent conditional write is in flight.
    # 404 NoSuchKey on If-Match: the object was deleted after our read.
    if status in (409, 412) or code in {"PreconditionFailed", "ConditionalRequestConflict"}:
        return True
    return code == "NoSuchKey" and "IfMatch" in condition


class Ledger:
    """Appends positions to the log object(s) ``s3://bucket/object_key``.

    ``s3_client`` is a boto3 S3 client acting as role B. ``sleep`` and ``rand`` are
    injectable for tests; ``max_attempts`` bounds the read-append-write rounds under
    contention, after which :class:`LogConflictError` is raised (the invocation fails and
    Lambda's retry sees it; nothing was lost). ``time_left`` (seconds left of the
    invocation) and ``round_seconds`` (the longest one read-and-write round can take with
    this client) stop the retries early with :class:`DeadlineExceededError` rather than
    start a round that could outlast the invocation; the first round always runs.
    """

    def __init__(
        self,
        s3_client: Any,
        bucket: str,
        object_key: str,
        *,
        log_format: LogFormat = "text",
        layout: LogLayout = "single",
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        time_left: Callable[[], float] | None = None,
        round_seconds: float = 0.0,
    ) -> None:
        if log_format not in CONTENT_TYPES:
            raise ValueError(f"log_format {log_format!r} is not 'text' or 'jsonl'")
        if layout not in ("single", "daily"):
            raise ValueError(f"layout {layout!r} is not 'single' or 'daily'")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        if not object_key or object_key.startswith("/") or object_key.endswith("/"):
            raise ValueError(f"object_key {object_key!r} must not be empty or start/end with '/'")
        self._s3 = s3_client
        self.bucket = bucket
        self.object_key = object_key
        self.log_format: LogFormat = log_format
        self.layout: LogLayout = layout
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._rand = rand
        self._time_left = time_left
        self._round_seconds = round_seconds

    def key_for(self, when: datetime) -> str:
        """The object key for a record at ``when``.

        ``single``: ``object_key``. ``daily``: ``<stem>/YYYY/MM/DD<suffix>`` of the UTC date,
        e.g. ``logs/iss_position.txt`` -> ``logs/iss_position/2026/11/27.txt``.
        """
        if self.layout == "single":
            return self.object_key
        day = as_utc(when, "log time")
        stem, suffix = posixpath.splitext(self.object_key)
        return f"{stem}/{day:%Y/%m/%d}{suffix}"

    def format_record(self, position: Position, event_id: str | None) -> str:
        if self.log_format == "jsonl":
            return format_jsonl_record(position, event_id)
        return format_text_record(position)

    def append(
        self,
        position: Position,
        *,
        event_id: str | None = None,
        event_time: datetime | None = None,
    ) -> AppendResult:
        """Append one record, exactly once per ``event_id`` (``None``: always append).

        ``event_time`` (the schedule's time, if any) picks the daily object, so a retried
        event lands in the same day's object as its first delivery.
        """
        key = self.key_for(event_time if event_time is not None else position.time)
        record = self.format_record(position, event_id)
        bytes_read = bytes_written = 0
        stored: _Stored | None = None
        duplicate = False

        for attempt in range(1, self._max_attempts + 1):
            current = self._read(key)
            if current is not None:
                bytes_read += len(current.body)
                text = self._validated(key, current.body)
                duplicate = idempotency.recorded(current.metadata, event_id)
                if duplicate:
                    stored = _Stored(current.etag, current.version_id)
                    break
                body = current.body + (self._separator(text) + record).encode("utf-8")
                metadata = idempotency.next_metadata(current.metadata, event_id)
                condition = {"IfMatch": current.etag}
            else:
                start = HEADER if self.log_format == "text" else ""
                body = (start + record).encode("utf-8")
                metadata = idempotency.next_metadata({}, event_id)
                condition = {"IfNoneMatch": "*"}

            bytes_written += len(body)
            stored = self._put(key, body, metadata, condition)
            if stored is not None:
                break
            if attempt < self._max_attempts:
                pause = self._rand() * min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** (attempt - 1))
                self._check_time(key, attempt, pause)
                self._sleep(pause)

        if stored is None:
            raise LogConflictError(
                f"s3://{self.bucket}/{key}: other writers changed the object "
                f"{self._max_attempts} times in a row between read and write; gave up without "
                "writing (retry the event)"
            )
        return AppendResult(
            bucket=self.bucket,
            key=key,
            record=record,
            etag=stored.etag,
            version_id=stored.version_id,
            attempts=attempt,
            created=current is None,
            duplicate=duplicate,
            bytes_read=bytes_read,
            bytes_written=bytes_written,
        )

    def _check_time(self, key: str, attempt: int, pause: float) -> None:
        if self._time_left is None:
            return
        left = self._time_left()
        if left < pause + self._round_seconds:
            raise DeadlineExceededError(
                f"{self._where(key)}: other writers changed the object {attempt} time(s) "
                f"between read and write, and {max(left, 0):.1f} s left of the invocation "
                f"cannot fit another round (up to {self._round_seconds:.1f} s); gave up "
                "without writing (retry the event)"
            )

    def _where(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _read(self, key: str) -> _Current | None:
        """The object's body, ETag and user metadata; ``None`` only for 404 NoSuchKey."""
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key)
            body: bytes = response["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and _error_parts(exc)[0] == "NoSuchKey":
                return None
            raise _GET.error(self._where(key), exc) from exc
        metadata = {str(k).lower(): str(v) for k, v in (response.get("Metadata") or {}).items()}
        return _Current(
            body=body,
            etag=str(response["ETag"]),
            version_id=response.get("VersionId"),
            metadata=metadata,
        )

    def _put(
        self, key: str, body: bytes, metadata: dict[str, str], condition: dict[str, str]
    ) -> _Stored | None:
        """A conditional PutObject; ``None`` when a concurrent writer got there first."""
        try:
            response = self._s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=CONTENT_TYPES[self.log_format],
                Metadata=metadata,
                **condition,
            )
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and _lost_the_race(exc, condition):
                return None
            raise _PUT.error(self._where(key), exc) from exc
        return _Stored(response.get("ETag"), response.get("VersionId"))

    def _validated(self, key: str, body: bytes) -> str:
        """The body as text, if it is a log of this format; else LogCorruptError."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LogCorruptError(
                f"{self._where(key)} is not valid UTF-8 (byte 0x{body[exc.start]:02x} at "
                f"offset {exc.start}); refusing to overwrite it"
            ) from None
        if not text:
            return text  # an empty object holds no records: safe to start it
        if self.log_format == "text":
            if not text.startswith(HEADER_LINES):
                raise LogCorruptError(
                    f"{self._where(key)} does not start with the log header "
                    f"{HEADER_LINES!r} (it starts with {text[:40]!r}); refusing to overwrite it"
                )
            return text
        if text.startswith(HEADER_LINES):
            raise LogCorruptError(
                f"{self._where(key)} is a text-format log but LOG_FORMAT is jsonl; "
                "refusing to mix formats in one object (use another OBJECT_KEY)"
            )
        last = text.rstrip("\n").rsplit("\n", 1)[-1]
        try:
            parsed = json.loads(last)
        except ValueError:
            parsed = None
        if not text.startswith("{") or not isinstance(parsed, dict):
            raise LogCorruptError(
                f"{self._where(key)} is not a JSON Lines log (first or last line is not a "
                "JSON object); refusing to overwrite it"
            )
        return text

    def _separator(self, text: str) -> str:
        """What goes between the existing content and a new record."""
        if not text:
            return HEADER if self.log_format == "text" else ""
        if self.log_format == "jsonl":
            return "" if text.endswith("\n") else "\n"
        # Records are separated by a blank line; an object written by the original (or a
        # bare two-line header) may end with a single newline.
        if text.endswith("\n\n"):
            return ""
        return "\n" if text.endswith("\n") else "\n\n"
