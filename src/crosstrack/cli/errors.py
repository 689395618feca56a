"""The one CLI-level error: caught at the edge, printed on stderr, exit 1."""

from __future__ import annotations

import click


class CliError(click.ClickException):
    """A failure the user can act on. Click prints ``Error: <message>`` and exits 1."""

    exit_code = 1
