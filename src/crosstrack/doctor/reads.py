"""One read-only AWS call, as every collector of the doctor makes it.

:func:`read` turns a refusal into :class:`Unreadable` with a reason naming the permission (a
row then says ``unknown``), and a missing resource into a "does not exist" reason (a row then
fails). The live collector (:mod:`crosstrack.doctor.live`), the chain's live source
(:mod:`crosstrack.doctor.calls`) and the chain's state (:mod:`crosstrack.doctor.chain_state`)
share it, and :func:`policy_document`, so that the same refusal reads the same everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from crosstrack.errors import CrosstrackError

T = TypeVar("T")

_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden"}
_MISSING = {
    "NoSuchEntity",
    "ResourceNotFoundException",
    "NoSuchBucket",
    "NotFoundException",
    "NoSuchKey",
}


class Unreadable(CrosstrackError):
    """One read failed; ``reason`` is what a row prints. The collectors catch it and record
    the reason in the part's ``unreadable``; it derives from the base only so that one that
    escaped would still end in an ``Error:`` line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read(action: str, resource: str, call: Callable[[], T]) -> T:
    """``call()``, which needs ``action`` on ``resource``; its AWS failures as Unreadable."""
    try:
        return call()
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _DENIED or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
            raise Unreadable(f"{action} denied on {resource}") from None
        if code in _MISSING:
            raise Unreadable(f"does not exist: {resource} ({code} from {action})") from None
        raise Unreadable(f"{action} on {resource} failed: {code}") from None
    except BotoCoreError as exc:
        raise Unreadable(f"{action} on {resource} failed: {exc}") from None


def policy_document(raw: Any) -> dict[str, Any]:
    """A policy document as IAM returns it: a dict (boto3 decodes it) or URL-encoded JSON."""
    if isinstance(raw, dict):
        return raw
    text = str(raw)
    if text.startswith("%7B") or text.startswith("%7b"):
        text = unquote(text)
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError("a policy document must be a JSON object")
    return loaded
