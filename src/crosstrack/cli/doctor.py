"""`crosstrack doctor`: name the broken link of the trust chain -- on AWS, locally, or
before deploying.

Exit codes: 0 when no row fails and none is unknown (warnings pass), 1 otherwise, 2 on usage
errors or unreadable input. With ``--json`` stdout holds only the JSON document.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from crosstrack.cli.doctor_chain import chain, run_chain
from crosstrack.cli.errors import CliError, domain_errors

app = typer.Typer(
    help="Diagnose the trust chain: which link is broken, which statement decided it, the fix.",
    invoke_without_command=True,
)


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class StateSource:
    """Where the deployment's state is read: the local AWS, live profiles, or a saved plan."""

    local: bool = False
    profile_a: str | None = None
    profile_b: str | None = None
    plan: Path | None = None

    def count(self) -> int:
        """How many of the three sources the flags name (--local with profiles is allowed)."""
        return sum([self.local, self.plan is not None, bool(self.profile_a or self.profile_b)])

    def given(self) -> bool:
        return self.count() > 0


def _sessions(source: StateSource) -> tuple[Any, Any]:
    import boto3
    from botocore.exceptions import BotoCoreError

    profile_a, profile_b = source.profile_a, source.profile_b
    if source.local:
        if not os.environ.get("AWS_ENDPOINT_URL") or not os.environ.get("AWS_CONFIG_FILE"):
            raise CliError(
                "--local needs the local AWS's variables: eval the export lines that "
                "`crosstrack local up` or `crosstrack demo --keep` print",
                code=2,
            )
        profile_a, profile_b = profile_a or "account-a", profile_b or "account-b"
    try:
        a = boto3.Session(profile_name=profile_a) if profile_a else boto3.Session()
        b = boto3.Session(profile_name=profile_b) if profile_b else None
    except BotoCoreError as exc:  # an unknown profile, a broken config file
        raise CliError(str(exc), code=2) from None
    if b is None:
        raise CliError("give --profile-b (a profile of account B), or --local, or --plan", code=2)
    return a, b


def emit(
    rows: list[Any],
    *,
    as_json: bool,
    title: str,
    diagram: Path | None,
    mermaid: bool,
    names: dict[str, str],
    drawings: tuple[Callable[[list[Any]], str], Callable[[list[Any]], str]] | None = None,
) -> None:
    """Print the rows (table, JSON or Mermaid), write the diagram, exit with the verdict.
    ``drawings``: (svg, mermaid) of another chain than design.md's (``doctor chain``)."""
    from crosstrack.doctor import ok
    from crosstrack.doctor import render as r

    draw_svg, draw_mermaid = drawings or (
        lambda rows: r.svg(rows, names),
        lambda rows: r.mermaid(rows, names),
    )
    if diagram is not None:
        try:
            diagram.write_text(draw_svg(rows), encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {diagram}: {exc}", code=2) from None
    if as_json:
        typer.echo(r.as_json(rows))
    elif mermaid:
        typer.echo(draw_mermaid(rows), nl=False)
    else:
        from rich.console import Console

        Console(width=max(160, Console().width)).print(r.table(rows, title))
        good = ok(rows)
        _err("all links hold" if good else "the chain is broken: see the ✗ and ? rows above")
    raise typer.Exit(0 if ok(rows) else 1)


def _node_names(state: Any) -> dict[str, str]:
    return {
        "account_a": state.account_a,
        "account_b": state.account_b,
        "schedule": f"schedule {state.schedule.name}" if state.schedule else "no schedule",
        "function": f"function {state.function.name}",
        "role_a": f"role A {state.role_a.name}",
        "role_b": f"role B {state.role_b.name}",
        "object": f"s3://{state.bucket.name}",
        "policy": f"bucket policy{' + key policy' if state.key else ''}",
    }


def run_diagnosis(
    source: StateSource,
    flags: dict[str, str | None],
    *,
    infra: Path | None = None,
    region: str | None = None,
    probe: bool = False,
) -> tuple[Any, list[Any]]:
    """Collect the state from the one source given and diagnose it (optionally probing)."""
    from crosstrack.doctor import diagnose

    local, plan = source.local, source.plan
    if source.count() > 1 and not (local and not plan):
        raise CliError("choose one source: --local, --profile-a/--profile-b, or --plan", code=2)
    if plan is not None and probe:
        raise CliError("--probe needs live or local AWS, not a plan", code=2)
    with domain_errors():  # DoctorError (1), DoctorInputError (2)
        if plan is not None:
            from crosstrack.doctor.plan import collect_plan

            state = collect_plan(plan, **{k: v for k, v in flags.items() if v})
            rows = diagnose(state)
        else:
            from crosstrack.doctor import live
            from crosstrack.doctor.names import resolve
            from crosstrack.local.run.demo import DemoError, find_infra

            try:
                infra_dir: Path | None = find_infra(infra)
            except DemoError:
                infra_dir = None
            names = resolve(local=local, infra=infra_dir, region=region, **flags)
            _err(f"names from {names.origin}")
            a, b = _sessions(source)
            state = live.collect(
                live.Accounts(a, b, names.region), names, source="local" if local else "live"
            )
            rows = diagnose(state)
            if probe:
                from crosstrack.doctor.probe import probe_rows

                rows += probe_rows(state, a, b, rows)
    return state, rows


@app.callback()
def doctor(
    ctx: typer.Context,
    local: Annotated[
        bool, typer.Option("--local", help="The running local AWS (its exported variables).")
    ] = False,
    profile_a: Annotated[str | None, typer.Option(help="AWS profile of account A.")] = None,
    profile_b: Annotated[str | None, typer.Option(help="AWS profile of account B.")] = None,
    plan: Annotated[
        Path | None, typer.Option(help="`terraform show -json` of a saved plan (offline).")
    ] = None,
    function: Annotated[str | None, typer.Option(help="Function name.")] = None,
    role_a: Annotated[str | None, typer.Option(help="Role A name or ARN.")] = None,
    role_b: Annotated[str | None, typer.Option(help="Role B name or ARN.")] = None,
    bucket: Annotated[str | None, typer.Option(help="The log bucket.")] = None,
    key: Annotated[str | None, typer.Option(help="The bucket's KMS key id or ARN.")] = None,
    region: Annotated[str | None, typer.Option(help="Region of both accounts.")] = None,
    infra: Annotated[
        Path | None, typer.Option(help="infra/ whose `terraform output` names the deployment.")
    ] = None,
    probe: Annotated[
        bool, typer.Option("--probe", help="Also make the real read-only calls and compare.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
    diagram: Annotated[Path | None, typer.Option(help="Write the chain as SVG here.")] = None,
    mermaid: Annotated[bool, typer.Option("--mermaid", help="Print the chain as Mermaid.")] = False,
) -> None:
    """Check every link of the trust chain (design.md) and name the one that is broken.

    Sources: `--local` (the running local AWS), `--profile-a A --profile-b B` (live AWS, read-only
    calls only), or `--plan plan.json` (`terraform show -json` of a saved plan, offline).
    Names come from the flags, else Terraform's outputs, else the defaults.

    Examples: `crosstrack doctor --local` (beside `crosstrack demo --keep`);
    `crosstrack doctor --profile-a account-a --profile-b account-b --json`;
    `terraform -chdir=infra show -json plan.out > plan.json && crosstrack doctor --plan plan.json`.
    """
    if ctx.invoked_subcommand is not None:
        return
    state, rows = run_diagnosis(
        StateSource(local, profile_a, profile_b, plan),
        {"function": function, "role_a": role_a, "role_b": role_b, "bucket": bucket, "key": key},
        infra=infra,
        region=region,
        probe=probe,
    )
    title = f"crosstrack doctor ({state.source}): {state.account_a} -> {state.account_b}"
    emit(rows, as_json=as_json, title=title, diagram=diagram, mermaid=mermaid,
         names=_node_names(state))  # fmt: skip


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="doctor")


def _judged_by(action: str | None, rows: tuple[str, ...] | None) -> str:
    if rows:
        return "rows that judge it: " + ", ".join(rows)
    if action is None:
        return "rows that judge it: all (the message names no action)"
    return (
        f"no row of crosstrack's trust chain judges {action}; `crosstrack doctor explain "
        "--policies DIR` or `crosstrack doctor chain` checks any request"
    )


@app.command()
def explain(
    text: Annotated[
        str | None, typer.Argument(help="The error message as pasted ('-': read stdin).")
    ] = None,
    event: Annotated[
        Path | None,
        typer.Option(
            help="A CloudTrail event / lookup-events output / trail file, or the "
            "local AWS's audit.jsonl."
        ),
    ] = None,
    local: Annotated[bool, typer.Option("--local", help="Diagnose the local AWS.")] = False,
    profile_a: Annotated[str | None, typer.Option(help="AWS profile of account A.")] = None,
    profile_b: Annotated[str | None, typer.Option(help="AWS profile of account B.")] = None,
    plan: Annotated[Path | None, typer.Option(help="Diagnose a saved plan (offline).")] = None,
    policies: Annotated[
        Path | None,
        typer.Option(help="Diagnose the denied request itself from pasted policies (as chain)."),
    ] = None,
    external_id: Annotated[
        list[str] | None, typer.Option(help="With --policies: ExternalId sent (ROLE=ID or ID).")
    ] = None,
    function: Annotated[str | None, typer.Option(help="Function name.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
) -> None:
    """Read an AccessDenied message or a CloudTrail event: who was denied what, on which
    resource, by which policy type -- then diagnose that request (with a source given).

    With --policies DIR the request itself is checked as `doctor chain` would (a denied
    sts:AssumeRole as a hop to that role, anything else as the final request), offline.

    Examples: `crosstrack doctor explain "User: arn:aws:sts::111111111111:assumed-role/R/s is
    not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/B"`;
    `crosstrack doctor explain --event event.json --local` (a CloudTrail event, or the local
    AWS's audit.jsonl); `pbpaste | crosstrack doctor explain - --plan plan.json`.
    """
    from crosstrack.doctor import explain as ex

    with domain_errors():  # DoctorInputError (2)
        if event is not None:
            try:
                raw = event.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CliError(f"cannot read {event}: {exc}", code=2) from None
            denial = ex.parse_event(raw)
        elif text is not None:
            denial = ex.parse_text(sys.stdin.read() if text == "-" else text)
        else:
            raise CliError("give the error text, or --event FILE", code=2)
    summary = (
        f"denied: {denial.principal or '(principal not in the message)'} -> "
        f"{denial.action or '(action not in the message)'} on "
        f"{denial.resource or '(resource not in the message)'}; AWS blamed "
        f"{'an explicit deny in ' if denial.explicit else ''}{denial.blamed or 'no policy type'}"
    )
    source = StateSource(local, profile_a, profile_b, plan)
    if policies is not None:
        if source.given():
            raise CliError("choose one source: --policies, --local, --plan or --profile-*", code=2)
        from crosstrack.doctor.chain_run import pairs, request_for

        _err(summary)
        with domain_errors():
            ids = pairs("--external-id", external_id or (), bare_key="*")
            request = request_for(denial, external_ids=ids)
        run_chain(request, policies, [], as_json=as_json, diagram=None, mermaid=False,
                   title=f"crosstrack doctor explain: {denial.action}")  # fmt: skip
    if not source.given():
        if as_json:
            typer.echo(json.dumps({"denial": denial.as_dict()}, indent=2))
        else:
            typer.echo(summary)
            typer.echo(
                _judged_by(denial.action, ex.relevant_rows(denial))
                + "\nrun again with --local, --plan FILE or --profile-a/--profile-b to diagnose it"
            )
        raise typer.Exit(0)
    _err(summary)
    state, found = run_diagnosis(source, {"function": function})
    wanted = ex.relevant_rows(denial)
    if wanted is not None:
        found = [r for r in found if r.id in wanted]
    emit(
        found,
        as_json=as_json,
        title=f"crosstrack doctor explain: {denial.action}",
        diagram=None,
        mermaid=False,
        names=_node_names(state),
    )


app.command()(chain)
