"""The one CLI-level error: printed on stderr as ``Error: <message>``, exit 1."""

from __future__ import annotations

# typer >= 0.23 vendors its own click, and its commands catch that copy's ClickException
# (the base of typer.BadParameter), not the standalone click package's. Deriving from it
# keeps CliError handled by typer itself, in the console script and in CliRunner alike;
# tests/unit/cli/test_cli_package.py fails if that ever changes.
from typer._click.exceptions import ClickException


class CliError(ClickException):
    """A failure the user can act on; the message says what happened and what to do."""

    exit_code = 1
