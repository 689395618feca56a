"""`crosstrack iam`: ask the IAM policy engine what AWS would decide.

``crosstrack iam simulate FILE`` reads one case (a JSON object) or many (JSON Lines) and
prints one result per case: a JSON object, or JSON Lines for JSON Lines input. Exit codes:
0 whatever the decisions; 1 with ``--fail-on-deny`` when any case is denied; 2 when the input
cannot be read or holds an invalid case or policy (the message names the line and JSON path).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from crosstrack.errors import InputError
from crosstrack.iam import Decision, PolicyError, Verdict, decide, trace_lines

app = typer.Typer(
    no_args_is_help=True,
    help="The IAM policy engine: decide requests as AWS would, and explain the decision.",
)

_STYLE = {
    Verdict.ALLOWED: "bold green",
    Verdict.EXPLICIT_DENY: "bold red",
    Verdict.IMPLICIT_DENY: "bold yellow",
}


def _read(file: str) -> str:
    try:
        if file == "-":
            return sys.stdin.read()
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {file}: {exc}") from exc


def _cases(text: str, source: str) -> tuple[list[tuple[str, Any]], bool]:
    """The cases with their location for messages, and whether the input is JSON Lines."""
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    else:
        if isinstance(whole, dict):
            return [(source, whole)], False
        raise InputError(
            f"{source}: expected one case (a JSON object) or JSON Lines, not a JSON "
            f"{type(whole).__name__}"
        )
    cases: list[tuple[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            case = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc.msg}, column {exc.colno})") from exc
        cases.append((where, case))
    if not cases:
        raise InputError(f"{source}: no case found (the input is empty)")
    return cases, True


def _explain(console: Console, where: str, decision: Decision) -> None:
    console.print(f"[bold]{where}[/bold]  ", end="")
    console.print(decision.decision.value, style=_STYLE[decision.decision])
    console.print(f"  {decision.explanation}")
    decided = decision.decided_by.value if decision.decided_by else "-"
    console.print(f"  decided by: {decided}")
    if decision.missing_allow:
        missing = ", ".join(layer.value for layer in decision.missing_allow)
        console.print(f"  missing Allow in: {missing}")
    if decision.matched:
        table = Table("layer", "policy", "statement", "sid", "effect", box=None, padding=(0, 2))
        for m in decision.matched:
            table.add_row(m.layer.value, m.policy, str(m.statement), m.sid or "", m.effect.value)
        console.print(table)
    lines = trace_lines(decision)
    if lines:
        console.print("  every statement:")
        for line in lines:
            console.print(f"    {line}", highlight=False)


@app.command()
def simulate(
    file: Annotated[
        str, typer.Argument(help="A case (JSON object) or cases (JSON Lines) file; - for stdin.")
    ],
    explain: Annotated[
        bool, typer.Option("--explain", help="Print the human view instead of JSON.")
    ] = False,
    fail_on_deny: Annotated[
        bool, typer.Option("--fail-on-deny", help="Exit 1 if any case is denied.")
    ] = False,
) -> None:
    """Decide each case as AWS would: allowed, explicitDeny or implicitDeny, with the reason.

    Exit 0 whatever the decisions (1 with --fail-on-deny if any is denied); exit 2 on
    unreadable input or an invalid case or policy.
    """
    source = "<stdin>" if file == "-" else file
    try:
        cases, lines = _cases(_read(file), source)
        decisions: list[tuple[str, Decision]] = []
        for where, case in cases:
            try:
                decisions.append((where, decide(case, trace=explain)))
            except PolicyError as exc:
                raise InputError(f"{where}: {exc}") from exc
    except InputError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None

    if explain:
        console = Console(highlight=False)
        for where, decision in decisions:
            _explain(console, where, decision)
    elif lines:
        for _where, decision in decisions:
            typer.echo(json.dumps(decision.as_dict()))
    else:
        typer.echo(json.dumps(decisions[0][1].as_dict(), indent=2))
    if fail_on_deny and any(not d.allowed for _w, d in decisions):
        raise typer.Exit(code=1)
