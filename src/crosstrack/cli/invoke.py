"""`crosstrack invoke`: run one reporter invocation in-process, as Lambda would."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from crosstrack.cli.errors import domain_errors
from crosstrack.errors import InputError

# The function timeout Terraform deploys by default (infra/, var.lambda_timeout).
DEFAULT_TIMEOUT_SECONDS = 30.0
# What `--scheduled` names as the schedule: a stand-in, as no schedule sends this event.
LOCAL_SCHEDULE_NAME = "crosstrack-invoke"


@dataclass(frozen=True)
class LocalContext:
    """The parts of Lambda's context object the handler reads, with a Lambda-like timeout."""

    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = "crosstrack-invoke"
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the timeout, as Lambda's context reports them."""
        left = self.timeout_seconds - (time.monotonic() - self.started)
        return max(0, int(left * 1000))


def scheduled_event(now: datetime | None = None) -> dict[str, str]:
    """The input the Terraform schedule sends, for a run scheduled at ``now`` (seconds).

    The schedule ARN is a stand-in in the caller's region; the idempotency key is ARN +
    scheduled time, so two runs within the same second count as one scheduled run.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return {
        "schedule_arn": f"arn:aws:scheduler:{region}:000000000000:schedule/default/"
        f"{LOCAL_SCHEDULE_NAME}",
        "scheduled_time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "execution_id": uuid.uuid4().hex[:16],
    }


def _load_event(event: str | None, scheduled: bool) -> Any:
    """The event to invoke with; an unusable one is an InputError naming --event (exit 2)."""
    if scheduled:
        if event is not None:
            raise InputError("give either --event or --scheduled, not both")
        return scheduled_event()
    if event is None:
        return {}
    text = sys.stdin.read() if event == "-" else event
    if event.startswith("@"):
        path = Path(event[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"--event: cannot read {path}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"--event: {path} is not UTF-8 text: {exc.reason}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"--event: not JSON: {exc}") from exc
    except RecursionError:
        raise InputError("--event: not usable JSON: nested too deeply") from None
    except ValueError as exc:  # a 5,000-digit integer
        raise InputError(f"--event: not usable JSON: {str(exc)[:80]}") from None


def invoke(
    event: Annotated[
        str | None,
        typer.Option(
            "--event",
            "-e",
            help="The event: inline JSON, @FILE, or - for stdin. Default {} (a manual run: "
            "always appends).",
        ),
    ] = None,
    scheduled: Annotated[
        bool,
        typer.Option(
            "--scheduled",
            help="Send the input the Terraform schedule sends (schedule_arn, scheduled_time = "
            "now, a fresh execution_id), so the run is idempotent like a scheduled one: "
            "runs within the same second are recorded once.",
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            min=1.0,
            max=900.0,
            help="The function timeout to simulate, in seconds: the handler fits its "
            "requests into it as in Lambda.",
        ),
    ] = DEFAULT_TIMEOUT_SECONDS,
) -> None:
    """Run one invocation of the Lambda handler in this process.

    Configuration comes from the environment, exactly as in Lambda (ACCOUNT2_ROLE_ARN,
    BUCKET_NAME, BUCKET_REGION, ... see README "Configuration"). AWS credentials, profile
    and endpoint follow the standard mechanisms (AWS_PROFILE, AWS_ENDPOINT_URL, ...): the
    credentials you run with play the execution role in account A. Prints the handler's
    result as JSON on stdout; the handler's own JSON log line goes to stderr.
    """
    from contextlib import redirect_stdout

    from crosstrack.reporter import handler

    with domain_errors():  # an unusable event (2), a ReporterError (1)
        payload = _load_event(event, scheduled)
        with redirect_stdout(sys.stderr):
            result = handler.lambda_handler(payload, LocalContext(timeout_seconds=timeout))
    typer.echo(json.dumps(result, indent=2, default=str))


def register(app: typer.Typer) -> None:
    """Add ``invoke`` to the top-level app."""
    app.command("invoke")(invoke)
