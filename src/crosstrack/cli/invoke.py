"""`crosstrack invoke`: run one reporter invocation in-process, as Lambda would."""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from crosstrack.cli.errors import CliError


@dataclass(frozen=True)
class LocalContext:
    """The parts of Lambda's context object the handler reads."""

    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = "crosstrack-invoke"


def _load_event(event: str | None, scheduled: bool) -> Any:
    if scheduled:
        if event is not None:
            raise typer.BadParameter("give either --event or --scheduled, not both")
        now = datetime.now(UTC).replace(microsecond=0)
        return {"execution_id": str(uuid.uuid4()), "scheduled_time": now.isoformat()}
    if event is None:
        return {}
    text = sys.stdin.read() if event == "-" else event
    if event.startswith("@"):
        path = Path(event[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}") from exc


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
            help="Send the event the Terraform schedule sends (a fresh execution_id and "
            "scheduled_time), so the run is idempotent like a scheduled one.",
        ),
    ] = False,
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
    from crosstrack.reporter.errors import ReporterError

    payload = _load_event(event, scheduled)
    try:
        with redirect_stdout(sys.stderr):
            result = handler.lambda_handler(payload, LocalContext())
    except ReporterError as exc:
        raise CliError(str(exc)) from exc
    typer.echo(json.dumps(result, indent=2, default=str))


def register(app: typer.Typer) -> None:
    """Add ``invoke`` to the top-level app."""
    app.command("invoke")(invoke)
