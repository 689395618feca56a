"""`crosstrack log`: read, filter, follow and export the ISS log (from the bucket or a file).

The options that choose *which* records (the source of the log and the selection) are
shared with `crosstrack map` (:mod:`crosstrack.cli.map`) through :class:`Where` and
:func:`load`.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crosstrack.cli.errors import domain_errors

if TYPE_CHECKING:
    from crosstrack.logbook.output import Renderer
    from crosstrack.logbook.records import Record
    from crosstrack.logbook.select import Selection
    from crosstrack.logbook.source import S3Log

# ---------------------------------------------------------------- shared options
FileArg = Annotated[
    str | None,
    typer.Argument(
        metavar="[FILE]",
        help="A log file to read, or - for stdin. Without it the log is read from the bucket.",
        show_default=False,
    ),
]
BucketOpt = Annotated[
    str | None,
    typer.Option(
        "--bucket",
        help="The log bucket (default: $BUCKET_NAME, else `terraform output bucket_name` of "
        "--infra).",
        show_default=False,
    ),
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--key",
        help="The log object, or the key the daily objects derive from (default: "
        "$OBJECT_KEY, else iss_position.txt).",
        show_default=False,
    ),
]
LayoutOpt = Annotated[
    str | None,
    typer.Option(
        "--layout",
        help="single or daily (<stem>/YYYY/MM/DD<suffix>); default $LOG_LAYOUT, else single.",
        show_default=False,
    ),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="The bucket's region (default: $BUCKET_REGION, else the profile's).",
        show_default=False,
    ),
]
ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="AWS profile to read with, e.g. the original's account-b.",
        show_default=False,
    ),
]
RoleOpt = Annotated[
    str | None,
    typer.Option(
        "--role-arn",
        help="Assume this role (role B) from your credentials (or --profile's) to read.",
        show_default=False,
    ),
]
ExternalIdOpt = Annotated[
    str | None,
    typer.Option(
        "--external-id",
        help="ExternalId for --role-arn, if its trust requires one.",
        show_default=False,
    ),
]
InfraOpt = Annotated[
    Path,
    typer.Option(
        "--infra",
        help="Terraform root module whose outputs name the bucket, when neither --bucket "
        "nor $BUCKET_NAME does.",
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Records at or after this time: ISO 8601 (UTC unless it has an offset) or a "
        "duration back from now (90m, 6h, 2d).",
        show_default=False,
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(
        "--until",
        help="Records at or before this time (same forms as --since).",
        show_default=False,
    ),
]
LastOpt = Annotated[
    int | None,
    typer.Option(
        "--last", min=1, help="Only the last N of the selected records.", show_default=False
    ),
]


def _warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Where:
    """Where `log` and `map` read the log from, as given. Each field is one of their options,
    declared here once; :func:`reads_the_log` adds them to a command."""

    file: FileArg = None
    bucket: BucketOpt = None
    key: KeyOpt = None
    layout: LayoutOpt = None
    region: RegionOpt = None
    profile: ProfileOpt = None
    role_arn: RoleOpt = None
    external_id: ExternalIdOpt = None
    infra: InfraOpt = Path("infra")

    def s3_log(self) -> S3Log:
        from crosstrack.logbook.source import S3Log, resolve_location, s3_client

        location = resolve_location(
            bucket=self.bucket,
            key=self.key,
            layout=self.layout,
            region=self.region,
            env=os.environ,
            infra=self.infra,
        )
        client = s3_client(
            profile=self.profile,
            role_arn=self.role_arn,
            external_id=self.external_id,
            region=location.region,
        )
        return S3Log(client, location)


def reads_the_log(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` with :class:`Where`'s options after its own, given to it as ``where``.

    Typer takes a command's options from its signature: the wrapper's is the command's own
    (less ``where``) followed by Where's fields, so the options and their order in --help are
    those of a command that listed them all. Typer passes every value by keyword.
    """
    shared = inspect.signature(Where, eval_str=True).parameters
    own = inspect.signature(command, eval_str=True).parameters

    @functools.wraps(command)
    def wrapper(**options: Any) -> None:
        command(where=Where(**{name: options.pop(name) for name in shared}), **options)

    wrapper.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*(p for name, p in own.items() if name != "where"), *shared.values()]
    )
    return wrapper


def selection(since: str | None, until: str | None, last: int | None, now: datetime) -> Selection:
    from crosstrack.logbook.select import Selection

    return Selection.from_flags(since, until, last, now=now)


def load(where: Where, chosen: Selection, now: datetime) -> list[Record]:
    """The selected records from the file/stdin or the bucket; bad lines go to stderr."""
    from crosstrack.logbook.read import read_bucket, read_file

    if where.file is not None:
        records = read_file(where.file, _warn)
    else:
        records = read_bucket(where.s3_log(), chosen, now, _warn)
    return chosen.apply(records)


# ---------------------------------------------------------------- the command
def log(
    output: Annotated[
        str, typer.Option("--output", help="text, json (JSON Lines) or csv.")
    ] = "text",
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            "-f",
            help="Keep polling the bucket (a conditional GET: 304 while nothing changed) and "
            "print new records as they are appended; Ctrl-C stops.",
        ),
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=1.0, help="Seconds between --follow polls.")
    ] = 30.0,
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    *,
    where: Where,
) -> None:
    """Print the ISS log: every format (text, jsonl) and layout (single, daily).

    Reads FILE (or stdin with -), else the bucket in account B. Lines that are not records
    are reported on stderr as `<object>:<line>: <why>` and skipped; the rest still prints.
    --output csv has the header time,latitude,longitude,source,estimate (source and
    estimate are empty for text-format records, which carry no provenance).

    Examples:

    $ crosstrack log --profile account-b --since 6h

    $ crosstrack log --role-arn arn:aws:iam::222222222222:role/access-s3-bucket --last 20 -f

    $ crosstrack log --since 2026-11-27T00:00Z --until 2026-11-27T12:00Z --output csv

    $ aws s3 cp s3://BUCKET/iss_position.txt - --profile account-b | crosstrack log -
    """
    from crosstrack.logbook.errors import LogbookInputError
    from crosstrack.logbook.output import OUTPUT_FORMATS, Renderer
    from crosstrack.logbook.select import utc_now

    with domain_errors():
        if output not in OUTPUT_FORMATS:
            raise LogbookInputError(f"--output {output!r}: choose text, json or csv")
        if follow and where.file is not None:
            raise LogbookInputError("--follow reads the bucket; it cannot follow a FILE")
        now = utc_now()
        chosen = selection(since, until, last, now)
        renderer = Renderer(output)  # type: ignore[arg-type]
        if follow:
            _follow(where, chosen, renderer, interval)
            return
        records = load(where, chosen, now)
        lines = [renderer.line(r) for r in records]
        header = renderer.header()
        if header is not None and (lines or output == "csv"):
            lines.insert(0, header)
        if lines:
            typer.echo("\n".join(lines))


def _follow(
    where: Where,
    chosen: Selection,
    renderer: Renderer,
    interval: float,
    *,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    polls: int | None = None,
) -> None:
    """Print the selection, then every new record, until Ctrl-C (or ``polls`` polls)."""
    from crosstrack.logbook.follow import Follower
    from crosstrack.logbook.read import read_bucket
    from crosstrack.logbook.select import utc_now

    now_fn = clock or utc_now
    log = where.s3_log()
    follower = Follower(log, clock=now_fn, warn=_warn)
    now = now_fn()
    earlier = read_bucket(log, chosen, now, _warn, exclude=follower.watched(now))
    header = renderer.header()
    if header is not None:
        typer.echo(header)
    for record in chosen.apply(earlier + follower.poll()):
        typer.echo(renderer.line(record))
    try:
        for batch in follower.run(sleep=sleep, interval=interval, polls=polls):
            for record in batch:
                if chosen.admits(record):
                    typer.echo(renderer.line(record))
            sys.stdout.flush()
    except KeyboardInterrupt:
        return


def register(app: typer.Typer) -> None:
    """Add ``log`` to the top-level app."""
    app.command("log")(reads_the_log(log))
