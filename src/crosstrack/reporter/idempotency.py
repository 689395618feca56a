"""Which events a log object already holds: a ring of event-id digests in its metadata.

EventBridge and async Lambda deliver at least once, so one scheduled event can invoke the
reporter twice; the ledger appends it once. The object's user metadata
(``x-amz-meta-crosstrack-events``) carries short digests of the most recent event ids, so
the check costs nothing beyond the GetObject the append makes anyway, and the ring is
written by the same conditional PutObject as the record (never out of step with it).

Imports: standard library only (this ships in the Lambda zip).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Final

# Idempotency ring, kept in the object's user metadata (x-amz-meta-crosstrack-events):
# 5-byte SHA-256 digests of recent event ids, oldest first, base64-encoded. 288 entries
# cover a day of a 5-minute schedule (EventBridge Scheduler's default maximum event age
# for retries is 24 h) in 1,920 characters, inside S3's 2 KB limit on user metadata
# (keys + values, UTF-8 bytes). A false "already recorded" needs a 40-bit collision among
# 288 digests: about 3e-10 per append.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html#UserMetadata
# https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-retry-policy.html
RING_METADATA_KEY: Final = "crosstrack-events"
RING_CAPACITY: Final = 288
_DIGEST_BYTES: Final = 5
_METADATA_LIMIT: Final = 2048


def _digest(event_id: str) -> bytes:
    return hashlib.sha256(event_id.encode("utf-8")).digest()[:_DIGEST_BYTES]


def _read_ring(metadata: Mapping[str, str]) -> list[bytes]:
    """The digests in the metadata; an unreadable ring (edited by hand) counts as empty."""
    value = metadata.get(RING_METADATA_KEY, "")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return []
    if len(raw) % _DIGEST_BYTES:
        return []
    return [raw[i : i + _DIGEST_BYTES] for i in range(0, len(raw), _DIGEST_BYTES)]


def _ring_capacity(other_metadata: Mapping[str, str]) -> int:
    """How many digests fit beside the object's other user metadata in S3's 2 KB."""
    used = sum(len(k.encode()) + len(v.encode()) for k, v in other_metadata.items())
    room = _METADATA_LIMIT - used - len(RING_METADATA_KEY)
    # base64 of n*5 bytes is ceil(5n/3)*4 characters.
    capacity = RING_CAPACITY
    while capacity > 0 and -(-capacity * _DIGEST_BYTES // 3) * 4 > room:
        capacity -= 1
    return capacity


def next_metadata(metadata: Mapping[str, str], event_id: str | None) -> dict[str, str]:
    """The metadata to write: the object's own, plus ``event_id`` (if any) in the ring."""
    others = {k: v for k, v in metadata.items() if k != RING_METADATA_KEY}
    ring = _read_ring(metadata)
    if event_id is not None:
        ring.append(_digest(event_id))
    capacity = _ring_capacity(others)
    ring = ring[-capacity:] if capacity else []  # oldest digests drop out first
    result = dict(others)
    if ring:
        result[RING_METADATA_KEY] = base64.b64encode(b"".join(ring)).decode("ascii")
    return result


def recorded(metadata: Mapping[str, str], event_id: str | None) -> bool:
    """Whether the ring in ``metadata`` holds ``event_id`` (None: an event without id, never)."""
    return event_id is not None and _digest(event_id) in _read_ring(metadata)
