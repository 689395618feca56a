"""The one CLI-level error: ``Error: <message>`` on stderr, exit 1.

It is a :class:`typer.Exit` that prints its message as it is raised, so the message stays
one plain line (typer's rich error panel would wrap it at the terminal width, which breaks
copy-paste of ARNs and grep in scripts) and the console script and ``CliRunner`` handle it
alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from crosstrack.errors import CrosstrackError


class CliError(typer.Exit):
    """A failure the user can act on; the message says what happened and what to do."""

    def __init__(self, message: str, code: int = 1) -> None:
        self.message = message
        typer.echo(f"Error: {message}", err=True)
        super().__init__(code)

    def __str__(self) -> str:
        return self.message


@contextmanager
def domain_errors() -> Iterator[None]:
    """A domain error (:class:`~crosstrack.errors.CrosstrackError`) raised inside ends the
    command as ``Error: <message>`` with its exit code (2 for bad flags or input, 1 otherwise),
    the same under ``main()`` and ``CliRunner``."""
    try:
        yield
    except CrosstrackError as exc:
        raise CliError(str(exc), exc.exit_code) from exc
