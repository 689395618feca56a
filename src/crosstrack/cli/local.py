"""`crosstrack local up`: run the local two-account AWS in the foreground.

stdout carries exactly the export lines of design.md (so ``eval "$(crosstrack local up)"``
style wrappers and tests can read them); everything else goes to stderr. Ctrl-C or SIGTERM
stops the servers and exits 0.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from crosstrack.cli.errors import CliError

app = typer.Typer(
    no_args_is_help=True,
    help="The local two-account AWS: moto over HTTPS, every request decided by crosstrack.iam.",
)

DEFAULT_WORKDIR = Path(".crosstrack/local")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@app.command()
def up(
    port: Annotated[
        int,
        typer.Option(
            "--port", min=0, max=65535, help="HTTPS port on 127.0.0.1 (0: any free port)."
        ),
    ] = 0,
    workdir: Annotated[
        Path,
        typer.Option(
            "--workdir",
            help="Where the CA, the AWS config/credentials files and the audit log are written.",
        ),
    ] = DEFAULT_WORKDIR,
    infra: Annotated[
        Path | None,
        typer.Option(
            "--infra",
            file_okay=False,
            help="crosstrack's infra/ directory, whose bootstrap/ JSON defines B's deploy role "
            "(default: the checkout's, else the copy inside the installed package).",
        ),
    ] = None,
) -> None:
    """Start accounts A and B on 127.0.0.1 and print the export lines; Ctrl-C stops."""
    try:
        from crosstrack.local import LocalAWS, LocalAWSError  # the 'local' extra may be absent
    except ImportError as exc:
        raise CliError(
            f"the local AWS needs the 'local' extra ({exc.name or exc} is missing): "
            "pip install 'crosstrack[local]'"
        ) from exc
    from crosstrack import resources

    infra_dir = (infra or resources.infra_dir()).resolve()
    if workdir.resolve().is_relative_to(infra_dir):
        raise CliError("the work directory must not be inside infra/ (state never lives there)")

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    aws = LocalAWS(workdir, port=port, bootstrap_dir=resources.bootstrap_dir(infra_dir))
    try:
        try:
            aws.start()
        except LocalAWSError as exc:
            raise CliError(str(exc)) from exc
        print("\n".join(aws.export_lines()), flush=True)
        _say(f"crosstrack local AWS: accounts {aws.account_a} (A) and {aws.account_b} (B)")
        _say(f"  HTTPS   {aws.endpoint}   (plain HTTP, not secure transport: {aws.http_endpoint})")
        _say(f"  operator {aws.operator_arn}; profile account-b -> {aws.terraform_role_arn}")
        _say(f"  audit log {aws.audit_log}")
        from crosstrack.local.setup.profiles import aws_cli_warning

        warning = aws_cli_warning()
        if warning is not None:
            _say(f"Warning: {warning}")
        _say("Ctrl-C to stop.")
        while not stop.wait(0.5):
            pass
        _say("stopping ...")
    finally:
        aws.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _say("stopped.")
