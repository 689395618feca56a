"""`crosstrack local`: (being built; see the local issue)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="(not yet available)")
