"""The ``crosstrack`` command line: thin commands that parse, call domain code and render.

Conventions (Click's): a usage error exits 2; a failure the user can act on prints one
message on stderr and exits 1 (:class:`CliError`). Every domain error derives from
:class:`crosstrack.errors.CrosstrackError`; one that a command does not handle itself is
caught once, here in :func:`main`: one ``Error: <message>`` line on stderr, exit with its
``exit_code``, no traceback. Progress and diagnostics go to stderr, results to stdout.
"""

from __future__ import annotations

import sys

import typer

from crosstrack.cli import demo, doctor, iam, invoke, local, log, package
from crosstrack.cli import map as map_cli
from crosstrack.errors import CrosstrackError

app = typer.Typer(
    name="crosstrack",
    help="Secure cross-account access on AWS: the ISS reporter, its local two-account AWS, "
    "and the tools that explain the trust chain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Docstrings are wrapped at 100 columns; markdown mode re-flows their paragraphs.
    rich_markup_mode="markdown",
)
demo.register(app)
invoke.register(app)
package.register(app)
log.register(app)
map_cli.register(app)
app.add_typer(iam.app, name="iam")
app.add_typer(local.app, name="local")
doctor.register(app)


def main() -> None:
    """Console-script entry point: domain errors end in one ``Error:`` line and their code."""
    try:
        app(standalone_mode=True)
    except CrosstrackError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
