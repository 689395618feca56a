"""`crosstrack demo`: the whole system, deployed and running locally in one command."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crosstrack.cli.errors import CliError
from crosstrack.errors import CrosstrackError

if TYPE_CHECKING:
    from crosstrack.local.run.demo import Demo, Tick

LINK_HELP = (
    "Break one link of the trust chain, then show where it fails with AWS's message and the "
    "audit entry that denied it, and exit 1. One of: schedule-invoke, logs, a-trust, "
    "a-assume, b-trust, b-s3, bucket-policy, deploy-role (applied before the deploy)."
)


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _describe_failure(demo: Demo, tick: Tick) -> list[str]:
    """What failed in ``tick``, in the words AWS would use, and who denied it."""
    lines: list[str] = []
    firing = tick.firing
    if not firing.ok:
        step = (
            "0. the scheduler could not assume the schedule's role"
            if firing.step == "assume-role"
            else "0. the schedule may not invoke the function"
        )
        lines += [f"FAILED at {step}", f"   {firing.error_code}: {firing.message}"]
    elif tick.attempts and not tick.attempts[-1].ok:
        last = tick.attempts[-1]
        error = last.error or {}
        where = {
            "denied": "1. Lambda could not assume the execution role (role A)",
            "timeout": "the function timed out",
        }.get(last.status, "the function failed")
        lines += [
            f"FAILED at {where} ({len(tick.attempts)} attempt(s))",
            f"   {error.get('errorType')}: {error.get('errorMessage')}",
        ]
    if tick.logs_lost:
        lost = next(a.logs_error for a in tick.attempts if a.logs_error)
        lines += ["FAILED at 0. the function may write its logs: its logs were lost", f"   {lost}"]
    denial = demo.denial_since(tick.audit_from)
    if denial is not None:
        lines += [
            "   denied by the local AWS (audit log):",
            f"     principal: {denial.get('principal')}",
            f"     action:    {denial.get('action')} on {denial.get('resource')}",
            f"     decision:  {denial.get('decision')} ({denial.get('decided_by')})",
            f"     because:   {denial.get('explanation') or denial.get('reason')}",
        ]
    return lines


def _chain_table(demo: Demo) -> Any:
    from rich.table import Table

    table = Table(title="The trust chain, as the local AWS decided it", title_justify="left")
    for column in ("", "link", "principal", "action on resource", "deciding statement"):
        table.add_column(column, overflow="fold")
    for row in demo.chain():
        entry = row.entry or {}
        table.add_row(
            f"{row.mark} {row.number}",
            row.link,
            str(entry.get("principal", "(not seen)")),
            f"{entry.get('action', '')} on {entry.get('resource', '')}" if entry else "",
            row.statement,
        )
    return table


def _watch_commands(demo: Demo) -> str:
    out = demo.outputs
    bucket, function = out.get("bucket_name", "<bucket>"), out.get("function_name", "<function>")
    return f"""
Watch it work (paste after the export lines above):
  aws logs tail /aws/lambda/{function} --follow
  aws s3 cp s3://{bucket}/iss_position.txt - --profile account-b
Common pitfalls, checked the way the original post suggests:
  aws iam list-attached-role-policies --role-name connect-to-bridge
  aws iam list-role-policies --role-name connect-to-bridge
  aws iam get-role --role-name access-s3-bucket --profile account-b \\
      --query 'Role.AssumeRolePolicyDocument'
  aws iam get-role-policy --role-name access-s3-bucket --policy-name append-iss-log \\
      --profile account-b
The schedule keeps firing every --every seconds; Ctrl-C stops the local AWS."""


def demo(
    ticks: Annotated[int, typer.Option(min=1, max=100, help="Scheduled runs to fire.")] = 3,
    every: Annotated[
        float,
        typer.Option(
            min=0,
            help="Real seconds between runs (the deployed schedule "
            "says 5 minutes; the demo does not make you wait).",
        ),
    ] = 2.0,
    port: Annotated[int, typer.Option(min=0, max=65535, help="HTTPS port; 0 = a free one.")] = 0,
    keep: Annotated[
        bool,
        typer.Option(
            "--keep",
            help="Stay up afterwards: print the export lines on stdout, keep firing the "
            "schedule, stop on Ctrl-C.",
        ),
    ] = False,
    break_link: Annotated[
        str | None, typer.Option("--break", metavar="LINK", help=LINK_HELP)
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Deploy with ISS_SOURCES=tle: positions from the bundled TLE only, no network.",
        ),
    ] = False,
    workdir: Annotated[
        Path | None,
        typer.Option(help="Where all state goes (default .crosstrack/demo/<timestamp>)."),
    ] = None,
    infra: Annotated[
        Path | None,
        typer.Option(
            help="The Terraform root module to apply, with its bootstrap/ JSON (default: "
            "crosstrack's infra/: the checkout's, else the copy inside the installed package)."
        ),
    ] = None,
) -> None:
    """Deploy crosstrack into a local two-account AWS and watch it run.

    Starts the local AWS (accounts 111111111111 and 222222222222 on 127.0.0.1, IAM
    enforced by crosstrack's engine), builds the Lambda zip, applies infra/ with Terraform
    (account A as the operator, account B through its terraform role), fires the deployed
    schedule --ticks times, prints the log object from account B as `aws s3 cp ...
    --profile account-b` would, and the trust chain with the audit entry behind each link.
    Progress goes to stderr; Terraform's full output to a log file under the work dir.
    Exit 0 when every run succeeded, 1 when a step failed (or --break showed its failure).
    """
    from crosstrack.local.run import links
    from crosstrack.local.run.demo import Demo, DemoOptions, default_workdir

    if break_link is not None:
        links.check_link(break_link)  # LinkError: one Error line from main(), exit 2
    options = DemoOptions(
        workdir=workdir or default_workdir(), port=port, infra=infra, offline=offline
    )
    runner = Demo(options, progress=lambda m: _err(f"  {m}"))
    signal.signal(signal.SIGTERM, _raise_interrupt)
    failed = False
    try:
        _err(f"[1/5] starting the local AWS (work dir {runner.workdir})")
        runner.start()
        _deploy(runner, break_link)
        _err(f"[4/5] firing the schedule {ticks} time(s), {every:g} s apart")
        failed = not _run_ticks(runner, ticks, every)
        _show(runner, sys.stderr if keep else sys.stdout)
        _write_map(runner)
        if keep:
            _keep_running(runner, every)
    except KeyboardInterrupt:
        _err("interrupted; stopping the local AWS")
        failed = failed or not keep
    except CrosstrackError as exc:
        # Here rather than in main(): the Error line comes before the timings line, and
        # ScheduleError/LinkError keep their exit code 2 (README, "Exit codes").
        raise CliError(str(exc), exc.exit_code) from exc
    finally:
        runner.stop()
        _err("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in runner.timings.items()))
    if failed:
        raise typer.Exit(1)


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _deploy(runner: Demo, break_link: str | None) -> None:
    """Package and apply; apply the breakage before (deploy-role) or after the deploy."""
    from crosstrack.local.run import links
    from crosstrack.local.run.terraform import TerraformError

    if break_link == "deploy-role":
        _err("      breaking deploy-role: " + links.DESCRIPTIONS["deploy-role"])
        runner.break_link("deploy-role")
    _err("[2/5] packaging the Lambda zip")
    runner.package()
    _err("[3/5] deploying infra/ with Terraform")
    before_deploy = runner.audit_size()
    try:
        runner.deploy()
    except TerraformError as exc:
        if break_link != "deploy-role":
            raise
        _err("FAILED at deploy: Terraform's account-B provider could not assume the role")
        _err(f"   {exc}")
        denial = runner.denial_since(before_deploy)
        if denial is not None:
            _err(f"   denied by the local AWS (audit log): {denial.get('explanation')}")
        raise typer.Exit(1) from None
    if break_link is not None:
        _err(f"      breaking {break_link}: {links.DESCRIPTIONS[break_link]}")
        runner.break_link(break_link)


def _tick(runner: Demo) -> bool:
    """Fire the schedule once; report the outcome (and a failure in full); True when ok."""
    tick = runner.tick()
    ok = tick.ok and not tick.logs_lost
    _err(f"  tick {tick.number}: {'ok' if ok else 'FAILED'}")
    if not ok:
        for line in _describe_failure(runner, tick):
            _err(line)
    return ok


def _run_ticks(runner: Demo, ticks: int, every: float) -> bool:
    """Fire the schedule ``ticks`` times, ``every`` seconds apart; True when all succeeded."""
    results = []
    for n in range(ticks):
        if n:
            time.sleep(every)
        results.append(_tick(runner))
    return all(results)


def _show(runner: Demo, out: Any) -> None:
    """The log object from account B, the trust-chain table, the timings."""
    from rich.console import Console

    _err("[5/5] the log in account B (aws s3 cp s3://…/iss_position.txt - --profile account-b)")
    try:
        print(runner.read_log().decode("utf-8", "replace"), file=out, end="", flush=True)
    except Exception as exc:  # the object may not exist when every run failed
        _err(f"  (cannot read the log object: {exc})")
    Console(file=out, width=160).print(_chain_table(runner))


def _write_map(runner: Demo) -> None:
    """The map of this run in the work dir, where the `map` extra is installed; path on stderr."""
    from crosstrack.logbook import parse_log
    from crosstrack.logbook.worldmap import render_map

    try:
        records = parse_log(runner.read_log().decode("utf-8", "replace")).records
        path = render_map(records, runner.workdir / "map.png").path
    except Exception as exc:  # no log, no records, no matplotlib: the demo's result stands
        _err(f"  (no map of this run: {exc})")
        return
    _err(f"map of this run: {path}")


def _keep_running(runner: Demo, every: float) -> None:
    """Print the export lines on stdout and keep firing the schedule until Ctrl-C."""
    aws = runner.aws
    if aws is None:
        return
    for line in aws.export_lines():
        print(line, flush=True)
    _err(_watch_commands(runner))
    while True:
        time.sleep(max(every, 1.0))
        _tick(runner)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the top-level app."""
    app.command("demo")(demo)
