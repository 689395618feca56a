"""`crosstrack package`: build the Lambda zip Terraform deploys (design.md, "Lambda artifact")."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from crosstrack.cli.errors import domain_errors
from crosstrack.errors import InputError
from crosstrack.packaging import (
    ARCHITECTURES,
    DEFAULT_OUTPUT,
    PYTHON_VERSIONS,
    Target,
    build_lambda_zip,
)


def _stderr(message: str) -> None:
    typer.echo(message, err=True)


def _one_of(choices: Iterable[str]) -> str:
    *first, last = choices
    return f"{', '.join(first)} or {last}"


def package(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the zip.", dir_okay=False)
    ] = DEFAULT_OUTPUT,
    python: Annotated[
        str,
        typer.Option(
            "--python",
            help=f"Lambda Python version ({', '.join(PYTHON_VERSIONS)}); Terraform's "
            "lambda_runtime must be python<this>.",
        ),
    ] = "3.12",
    arch: Annotated[
        str,
        typer.Option(
            "--arch",
            help="Lambda architecture (arm64 or x86_64); Terraform's lambda_architecture.",
        ),
    ] = "arm64",
    sdk: Annotated[
        bool,
        typer.Option(
            "--sdk/--no-sdk",
            help="Bundle the pinned boto3/botocore (default). --no-sdk builds a slim zip "
            "for those who supply the SDK as a layer.",
        ),
    ] = True,
    lock: Annotated[
        Path | None,
        typer.Option(
            "--lock",
            help="Pinned requirements (default: requirements/lambda.lock of this checkout, "
            "else the copy inside the installed package).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Build the deterministic Lambda zip and print its size and base64 SHA-256.

    Wheels are fetched once with pip (hash-checked against the lock) into
    $CROSSTRACK_CACHE/wheels or ~/.cache/crosstrack/wheels; later builds are offline.
    """
    with domain_errors():
        if arch not in ARCHITECTURES:
            raise InputError(f"--arch {arch!r}: choose {_one_of(ARCHITECTURES)}")
        if python not in PYTHON_VERSIONS:
            raise InputError(f"--python {python!r}: choose {_one_of(PYTHON_VERSIONS)}")
        target = Target(python=python, arch=arch)
        result = build_lambda_zip(output, target=target, sdk=sdk, lock=lock, log=_stderr)

    bundled = ", ".join(f"{p.name} {p.version}" for p in result.pins)
    typer.echo(
        f"{result.path}: {result.size} bytes ({result.size / 1e6:.1f} MB), {result.entries} files"
    )
    typer.echo(f"target: {target.runtime} {target.arch}; bundled: {bundled}")
    typer.echo(f"filebase64sha256: {result.sha256_base64}")
    _stderr(
        f'Terraform: lambda_runtime = "{target.runtime}", lambda_architecture = "{target.arch}", '
        f'lambda_zip_path = "{result.path}"'
    )


def register(app: typer.Typer) -> None:
    """Add ``crosstrack package`` to the top-level app."""
    app.command("package")(package)
