"""Which role sessions Lambda issued to which function: ``lambda:SourceFunctionArn``.

In AWS, the execution-role credentials Lambda hands to a function carry the function's ARN,
and every request signed with them has ``lambda:SourceFunctionArn`` in its context; any
other session of the same role (assumed another way, or given to another function) has a
different value or none. The key is usable in identity policies and SCPs, not in trust
policies (https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html).

The local Lambda runner marks the sessions it obtains for a function here, by access key
id (a session's key is unique and never reused); the enforcer asks :func:`context_for` for
every request, so the function's own calls, and the log writes Lambda makes with the same
credentials on its behalf, get the key, and nothing else does.
"""

from __future__ import annotations

import threading
from typing import Final

from crosstrack.local.auth.actions import ContextValue

SOURCE_FUNCTION_ARN: Final = "lambda:SourceFunctionArn"

_lock = threading.Lock()
_functions: dict[str, str] = {}


def mark(access_key_id: str, function_arn: str) -> None:
    """Record that Lambda issued the session of ``access_key_id`` to ``function_arn``."""
    if not access_key_id or ":function:" not in function_arn:
        raise ValueError(f"not a session key and function ARN: {access_key_id!r}, {function_arn!r}")
    # The unqualified ARN, as Lambda puts it (no version or alias suffix).
    unqualified = ":".join(function_arn.split(":")[:7])
    with _lock:
        _functions[access_key_id] = unqualified


def function_of(access_key_id: str) -> str | None:
    with _lock:
        return _functions.get(access_key_id)


def context_for(access_key_id: str) -> dict[str, ContextValue]:
    """``{"lambda:SourceFunctionArn": arn}`` for a session Lambda issued to a function."""
    arn = function_of(access_key_id)
    return {SOURCE_FUNCTION_ARN: arn} if arn else {}


def forget_all() -> None:
    """Drop every mark (the emulator's state was reset)."""
    with _lock:
        _functions.clear()
