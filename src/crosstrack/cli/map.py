"""`crosstrack map`: the ground track of the selected records on a world map (extra `map`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crosstrack.cli.errors import domain_errors
from crosstrack.cli.log import (
    LastOpt,
    SinceOpt,
    UntilOpt,
    Where,
    load,
    reads_the_log,
    selection,
)


def map_command(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="The image to write (default iss_track.png, or .svg with --format svg).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="png or svg (default: from --out's suffix, else png).",
            show_default=False,
        ),
    ] = None,
    size: Annotated[str, typer.Option("--size", help="WIDTHxHEIGHT in pixels.")] = "1600x900",
    since: SinceOpt = None,
    until: UntilOpt = None,
    last: LastOpt = None,
    *,
    where: Where,
) -> None:
    """Draw the ISS ground track of the selected records on a world map.

    Same sources and selection as `crosstrack log`. Land and coastlines are Natural Earth
    1:110m, bundled: no network. Live and offline-TLE positions are drawn in different
    colours (legend), the track is split at the antimeridian, the night side is shaded
    at the last record's time and the last position is marked. Prints the image's path.
    Needs the `map` extra: pip install 'crosstrack[map]'.

    Examples:

    $ crosstrack map --profile account-b --since 3h -o track.png

    $ crosstrack map iss_position.txt --last 100 -o track.svg --size 1200x600

    $ crosstrack log --since 1d --output json | crosstrack map - -o day.png
    """
    from crosstrack.logbook.select import utc_now
    from crosstrack.logbook.worldmap import format_for, parse_size, render_map

    with domain_errors():
        pixels = parse_size(size)
        target = out if out is not None else Path(f"iss_track.{(fmt or 'png').lower()}")
        chosen_format = format_for(target, fmt)
        now = utc_now()
        records = load(where, selection(since, until, last, now), now)
        result = render_map(records, target, fmt=chosen_format, size=pixels)
        typer.echo(
            f"{result.records} record(s), {result.width}x{result.height} {result.format}",
            err=True,
        )
        typer.echo(str(result.path))


def register(app: typer.Typer) -> None:
    """Add ``map`` to the top-level app."""
    app.command("map")(reads_the_log(map_command))
