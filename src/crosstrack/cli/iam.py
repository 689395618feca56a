"""`crosstrack iam`: (being built; see the iam issue)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="(not yet available)")
