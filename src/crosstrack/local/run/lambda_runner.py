"""The local Lambda service: runs the *deployed* function as Lambda would, without Docker.

moto stores functions but cannot run them without Docker (field-notes.md). The runner reads
the function's configuration and code from the emulator's Lambda backend — so it runs the
zip Terraform deployed, not the working tree — and for each invocation:

1. obtains the execution role's credentials *as* ``lambda.amazonaws.com`` (role A's trust
   policy is checked by the engine, with ``aws:SourceAccount``/``aws:SourceArn`` set) and
   marks that session as the function's, so its requests carry ``lambda:SourceFunctionArn``
   (:mod:`crosstrack.local.auth.function_sessions`);
2. runs the handler in a child process (``python -I -S``: the standard library and the
   deployment package only) with the function's environment, those credentials and the
   local endpoint, and kills it at the configured timeout;
3. writes what the function printed to CloudWatch Logs group ``/aws/lambda/<function>``,
   framed by START/END/REPORT lines, **with the execution role's credentials** — so a role
   without its logs permission loses its logs, as in AWS;
4. for asynchronous invocations, retries per the function's event invoke configuration and
   then sends the invocation record to its on-failure destination (SQS), again as the
   execution role.

:meth:`LambdaRunner.install` routes moto's Lambda ``Invoke`` API to the runner (a seam of
:mod:`crosstrack.local.moto.seams`), so the scheduler, ``aws lambda invoke`` and boto3 all
reach the same code path after the engine has authorized ``lambda:InvokeFunction``. Steps
1, 3 and 4 — what Lambda does as the execution role — are in :mod:`.lambda_role`.
"""

from __future__ import annotations

import io
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from crosstrack.local.accounts import REGION
from crosstrack.local.emulator import LocalAWS
from crosstrack.local.moto import resources, seams
from crosstrack.local.moto.resources import FunctionConfig
from crosstrack.local.run.lambda_role import (
    deliver_logs,
    function_credentials,
    send_failure_record,
)
from crosstrack.local.services.service_access import AccessDeniedError, ServiceCredentials

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")

Status = Literal["ok", "error", "timeout", "denied"]


@dataclass(frozen=True)
class Invocation:
    """The outcome of one attempt to run the function."""

    request_id: str
    function: str
    attempt: int
    status: Status
    result: Any
    error: dict[str, Any] | None
    duration_ms: float
    log_lines: list[str]
    log_stream: str | None
    logs_error: str | None
    invoke_type: Literal["RequestResponse", "Event"] = "RequestResponse"

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def read_function(name: str, *, account: str, region: str = REGION) -> FunctionConfig:
    """The deployed function's configuration and code, from the emulator's Lambda backend."""
    return resources.function(name, account=account, region=region)


def _log_stream_name(now: datetime) -> str:
    # Lambda's own stream naming: date, version in brackets, a random instance id.
    return f"{now:%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"


class LambdaRunner:
    """Runs deployed functions of ``aws`` on this machine. One per LocalAWS."""

    def __init__(
        self,
        aws: LocalAWS,
        workdir: Path,
        *,
        python: str = sys.executable,
        retry_delay: float = 0.0,
        on_invocation: Callable[[Invocation], None] | None = None,
    ) -> None:
        self.aws = aws
        self.workdir = workdir
        self.python = python
        self.retry_delay = retry_delay
        self.on_invocation = on_invocation
        self.history: list[Invocation] = []
        self._lock = threading.Lock()
        # One worker: like one warm container processing its queue, in order.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda")
        self._pending: list[Future[list[Invocation]]] = []
        self._restore: Callable[[], None] | None = None

    # ------------------------------------------------------------------ invoking
    def invoke(self, function: str, event: Any, *, account: str) -> Invocation:
        """One synchronous invocation (``RequestResponse``): a single attempt."""
        config = read_function(function, account=account)
        return self._run(config, event, attempt=1, invoke_type="RequestResponse")

    def invoke_async(self, function: str, event: Any, *, account: str) -> list[Invocation]:
        """An ``Event`` invocation: retried per the event invoke config, then sent to the
        on-failure destination. Returns every attempt, in order."""
        config = read_function(function, account=account)
        attempts: list[Invocation] = []
        for attempt in range(1, config.max_retry_attempts + 2):
            outcome = self._run(config, event, attempt=attempt, invoke_type="Event")
            attempts.append(outcome)
            if outcome.ok:
                break
            if attempt <= config.max_retry_attempts and self.retry_delay:
                time.sleep(self.retry_delay)
        last = attempts[-1]
        if not last.ok and config.on_failure_destination:
            send_failure_record(
                self.aws,
                config,
                event,
                request_id=last.request_id,
                error=last.error,
                attempts=len(attempts),
            )
        return attempts

    def submit(self, function: str, event: Any, *, account: str) -> Future[list[Invocation]]:
        """Queue an asynchronous invocation; :meth:`wait` blocks until the queue is empty."""
        future = self._pool.submit(self.invoke_async, function, event, account=account)
        with self._lock:
            self._pending.append(future)
        return future

    def wait(self, timeout: float | None = None) -> list[Invocation]:
        """Wait for every queued invocation; return their attempts."""
        with self._lock:
            pending, self._pending = self._pending, []
        done: list[Invocation] = []
        for future in pending:
            done.extend(future.result(timeout=timeout))
        return done

    def close(self) -> None:
        self.uninstall()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # --------------------------------------------------------- moto Invoke route
    def install(self) -> None:
        """Route moto's Lambda ``Invoke`` (after the engine authorized it) to this runner."""
        runner = self

        def invoke(
            function: str,
            account: str,
            body: bytes | str | None,
            request_headers: Mapping[str, str],
            response_headers: MutableMapping[str, str],
        ) -> bytes:
            event = json.loads(body) if body else {}
            kind = (request_headers.get("x-amz-invocation-type") or "RequestResponse").lower()
            if kind == "event":
                runner.submit(function, event, account=account)
                return b""
            if kind == "dryrun":
                return b""
            outcome = runner.invoke(function, event, account=account)
            if not outcome.ok:
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps(outcome.error).encode()
            return json.dumps(outcome.result).encode()

        self._restore = seams.route_invoke(invoke)

    def uninstall(self) -> None:
        if self._restore is not None:
            self._restore()
            self._restore = None

    # ------------------------------------------------------------------ internals
    def _task_root(self, config: FunctionConfig) -> Path:
        root = self.workdir / "functions" / config.name / config.code_sha256.replace("/", "_")
        if not root.exists():
            staging = Path(tempfile.mkdtemp(dir=self.workdir, prefix=".unpack-"))
            with zipfile.ZipFile(io.BytesIO(config.code)) as archive:
                archive.extractall(staging)
            root.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(root)
        return root

    def _credentials(self, config: FunctionConfig) -> ServiceCredentials:
        return function_credentials(self.aws, config)

    def _run(
        self,
        config: FunctionConfig,
        event: Any,
        *,
        attempt: int,
        invoke_type: Literal["RequestResponse", "Event"],
    ) -> Invocation:
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        try:
            creds = self._credentials(config)
        except AccessDeniedError as exc:
            # Lambda cannot even start the function: nothing runs, nothing is logged.
            outcome = Invocation(
                request_id=request_id,
                function=config.name,
                attempt=attempt,
                status="denied",
                result=None,
                error={"errorType": "AccessDeniedException", "errorMessage": str(exc)},
                duration_ms=0.0,
                log_lines=[],
                log_stream=None,
                logs_error=None,
                invoke_type=invoke_type,
            )
            return self._record(outcome)

        stream = _log_stream_name(datetime.now(UTC))
        scratch = self.workdir / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        result_file = scratch / f"result-{request_id}.json"
        env = self._environment(
            config,
            creds=creds,
            request_id=request_id,
            stream=stream,
            result_file=result_file,
            started=started,
        )
        lines = [f"START RequestId: {request_id} Version: $LATEST"]
        status: Status
        try:
            proc = subprocess.run(
                [self.python, "-I", "-S", str(BOOTSTRAP), str(self._task_root(config))],
                input=json.dumps(event),
                env=env,
                cwd=scratch,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=config.timeout,
                check=False,
            )
            output = proc.stdout
            timed_out = False
        except subprocess.TimeoutExpired as exc:
            output = exc.output if isinstance(exc.output, str) else (exc.output or b"").decode()
            timed_out = True
        duration = (time.monotonic() - started) * 1000
        lines.extend(output.splitlines())
        result: Any = None
        error: dict[str, Any] | None = None
        if timed_out:
            status = "timeout"
            message = f"Task timed out after {config.timeout:.2f} seconds"
            lines.append(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%f}Z {request_id} {message}")
            error = {"errorType": "Sandbox.Timedout", "errorMessage": message}
        else:
            outcome_data = self._read_result(result_file)
            if outcome_data.get("ok"):
                status, result = "ok", outcome_data.get("result")
            else:
                status = "error"
                error = outcome_data.get("error") or {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"the runtime exited without a result:\n{output[-2000:]}",
                }
        result_file.unlink(missing_ok=True)
        max_rss_mb = math.ceil(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
        lines.append(f"END RequestId: {request_id}")
        lines.append(
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {math.ceil(duration)} ms\tMemory Size: {config.memory_size} MB\t"
            f"Max Memory Used: {max_rss_mb} MB"
        )
        logs_error = deliver_logs(self.aws, config, creds, stream, lines)
        outcome = Invocation(
            request_id=request_id,
            function=config.name,
            attempt=attempt,
            status=status,
            result=result,
            error=error,
            duration_ms=duration,
            log_lines=lines,
            log_stream=stream if logs_error is None else None,
            logs_error=logs_error,
            invoke_type=invoke_type,
        )
        return self._record(outcome)

    def _record(self, outcome: Invocation) -> Invocation:
        with self._lock:
            self.history.append(outcome)
        if self.on_invocation is not None:
            self.on_invocation(outcome)
        return outcome

    @staticmethod
    def _read_result(path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _environment(
        self,
        config: FunctionConfig,
        *,
        creds: ServiceCredentials,
        request_id: str,
        stream: str,
        result_file: Path,
        started: float,
    ) -> dict[str, str]:
        # Lambda's reserved variables, then the function's own, then the credentials
        # (which a function's variables may not override, as in Lambda).
        deadline = time.time() + config.timeout - (time.monotonic() - started)
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "TMPDIR": str(self.workdir / "tmp"),
            "LAMBDA_TASK_ROOT": str(self._task_root(config)),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "_HANDLER": config.handler,
            "_CROSSTRACK_REQUEST_ID": request_id,
            "_CROSSTRACK_FUNCTION_ARN": config.arn,
            "_CROSSTRACK_DEADLINE": f"{deadline:.3f}",
            "_CROSSTRACK_RESULT": str(result_file),
            **config.environment,
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            "AWS_ACCESS_KEY_ID": creds.access_key_id,
            "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
            "AWS_SESSION_TOKEN": creds.session_token,
            # Local only: where "AWS" is, and the CA that makes its TLS real.
            "AWS_ENDPOINT_URL": self.aws.endpoint,
            "AWS_CA_BUNDLE": str(self.aws.ca_bundle),
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
