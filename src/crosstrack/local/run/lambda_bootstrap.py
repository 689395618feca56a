"""The Lambda runtime's side of one local invocation, run as a script in a child process.

``python -I -S lambda_bootstrap.py TASK_ROOT`` — isolated mode and no site-packages, so the
function sees the standard library and its own deployment package only, as in Lambda
(a zip that forgot a dependency fails here exactly as it would there). It reads the event
(JSON) on stdin, imports the handler named by ``_HANDLER`` (``module.function``), calls it
with a context object, and writes ``{"ok": true, "result": ...}`` or ``{"ok": false,
"error": {errorMessage, errorType, stackTrace}}`` to the file named by
``_CROSSTRACK_RESULT``. What the function prints is its log, as in Lambda.

This file imports nothing from crosstrack: it runs inside the function's world.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


class Context:
    """The attributes and method of Lambda's Python context object that functions use."""

    def __init__(self, env: dict[str, str]) -> None:
        self.aws_request_id = env["_CROSSTRACK_REQUEST_ID"]
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = env["_CROSSTRACK_FUNCTION_ARN"]
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self._deadline = float(env["_CROSSTRACK_DEADLINE"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def main() -> int:
    task_root = sys.argv[1]
    sys.path.insert(0, task_root)
    env = dict(os.environ)
    result_path = env["_CROSSTRACK_RESULT"]
    outcome: dict[str, Any]
    try:
        module_name, _, function_name = env["_HANDLER"].rpartition(".")
        handler = getattr(importlib.import_module(module_name), function_name)
        event = json.loads(sys.stdin.read() or "{}")
        result = handler(event, Context(env))
        outcome = {"ok": True, "result": result}
    except Exception as exc:  # every failure becomes Lambda's error shape
        stack = traceback.format_exception(exc)
        # The Python runtime logs uncaught errors like this before reporting them.
        print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
        print("".join(stack).rstrip(), file=sys.stderr)
        outcome = {
            "ok": False,
            "error": {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "requestId": env.get("_CROSSTRACK_REQUEST_ID", ""),
                "stackTrace": [line.rstrip() for line in stack[1:]],
            },
        }
    sys.stdout.flush()
    sys.stderr.flush()
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(outcome, handle, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
