"""Draw the ground track on a world map with matplotlib (the ``map`` extra), offline.

Land and coastlines are Natural Earth 1:110m (public domain), bundled in ``data/`` (see
data/README.md): nothing is downloaded, ever. matplotlib is imported only inside
:func:`render_map`, with the Agg backend (no display), so ``crosstrack log``, the rest of
the CLI and the Lambda zip never import it; without it :class:`MapExtraMissingError` says
which extra to install.

The geometry (where each pixel is, where the track breaks, where the Sun is) lives in
:mod:`crosstrack.logbook.projection`, so the picture can be checked pixel by pixel.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

from crosstrack.logbook.errors import LogbookError, LogbookInputError, MapExtraMissingError
from crosstrack.logbook.projection import (
    MapBox,
    Point,
    map_box,
    night_pole,
    split_track,
    subsolar_point,
    terminator,
)
from crosstrack.logbook.records import Record
from crosstrack.logbook.select import in_time_order

MapFormat = Literal["png", "svg"]
Rings = list[list[tuple[float, float]]]
MAP_FORMATS: Final = ("png", "svg")
DEFAULT_SIZE: Final = (1600, 900)
DPI: Final = 100  # figure inches x DPI = pixels, exactly

OCEAN: Final = "#d6e6f2"
LAND: Final = "#efe9d8"
COAST: Final = "#7d8b99"
NIGHT: Final = "#0b1d3a"
NIGHT_ALPHA: Final = 0.22
# The kinds of record, how they are drawn, and their legend labels.
KIND_LIVE: Final = "live"
KIND_TLE: Final = "tle"
KIND_UNRECORDED: Final = "unrecorded"
COLOURS: Final = {KIND_LIVE: "#c8102e", KIND_TLE: "#7b3294", KIND_UNRECORDED: "#1f5fa8"}
LABELS: Final = {
    KIND_LIVE: "live position (open-notify, wheretheiss)",
    KIND_TLE: "offline TLE estimate (SGP4)",
    KIND_UNRECORDED: "position (text format: source not recorded)",
}
TRACK_WIDTH_PX: Final = 2.5
LABEL_OFFSET_PX: Final = 10  # from the last position to the corner of its label
_PT: Final = 72 / DPI  # points per pixel
_DATA: Final = "data"


@dataclass(frozen=True)
class MapResult:
    """What was written, and where the map lies in the image (for checks and callers)."""

    path: Path
    format: MapFormat
    width: int
    height: int
    box: MapBox
    records: int


@dataclass(frozen=True)
class DrawnMap:
    """The figure :func:`draw_map` drew, not yet written (matplotlib objects)."""

    figure: Any
    axes: Any
    label: Any  # the last position's annotation
    box: MapBox
    records: int


def kind_of(record: Record) -> str:
    if record.source is None:
        return KIND_UNRECORDED
    return KIND_TLE if record.offline else KIND_LIVE


def parse_size(text: str) -> tuple[int, int]:
    """``1600x900`` -> (1600, 900); each side 200..8000 pixels."""
    width, sep, height = text.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        size = (0, 0)
    if not sep or not all(200 <= side <= 8000 for side in size):
        raise LogbookInputError(
            f"--size {text!r}: expected WIDTHxHEIGHT in pixels, each 200 to 8000 (e.g. 1600x900)"
        )
    return size


def format_for(out: Path, explicit: str | None) -> MapFormat:
    """``--format``, else the file name's suffix, else png.

    A suffix that names another format (``map.gif``), or contradicts ``--format``
    (``map.png --format svg``), is refused: the file would not be what its name says.
    """
    suffix = out.suffix.lstrip(".").lower()
    if explicit is not None:
        chosen = explicit.lower()
        if chosen not in MAP_FORMATS:
            raise LogbookInputError(f"--format {explicit!r}: choose png or svg")
        if suffix in MAP_FORMATS and suffix != chosen:
            raise LogbookInputError(
                f"--out {out.name} is a .{suffix} name but --format is {chosen}: make them agree"
            )
        return chosen  # type: ignore[return-value]
    if not suffix:
        return "png"
    if suffix not in MAP_FORMATS:
        raise LogbookInputError(
            f"--out {out.name}: crosstrack map writes .png or .svg, not .{suffix} "
            "(or give --format png|svg)"
        )
    return suffix  # type: ignore[return-value]


def layout(width: int, height: int) -> MapBox:
    """The map's pixel box for an image of this size (a title band on top)."""
    return map_box(width, height, top_band=max(36.0, height * 0.07), margin=max(8.0, width * 0.01))


@lru_cache(maxsize=1)
def _natural_earth() -> tuple[Rings, Rings, Rings]:
    """(land exteriors, holes in the land, coastlines) from the bundled GeoJSON."""
    base = resources.files("crosstrack.logbook").joinpath(_DATA)
    land = json.loads(base.joinpath("ne_110m_land.geojson").read_text(encoding="utf-8"))
    coast = json.loads(base.joinpath("ne_110m_coastline.geojson").read_text(encoding="utf-8"))
    rings: Rings = []
    holes: Rings = []
    for feature in land["features"]:
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        for polygon in polygons:
            rings.append([(x, y) for x, y in polygon[0]])
            holes.extend([(x, y) for x, y in ring] for ring in polygon[1:])
    lines: Rings = []
    for feature in coast["features"]:
        geometry = feature["geometry"]
        parts = (
            [geometry["coordinates"]]
            if geometry["type"] == "LineString"
            else geometry["coordinates"]
        )
        lines.extend([(x, y) for x, y in part] for part in parts)
    return rings, holes, lines


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MapExtraMissingError(
            "crosstrack map needs matplotlib, which is in the 'map' extra: "
            "pip install 'crosstrack[map]'"
        ) from None
    matplotlib.use("Agg", force=True)  # files only; never a display
    return matplotlib


def _title(records: Sequence[Record]) -> str:
    first, last = records[0].time, records[-1].time
    clock = "%H:%M:%S" if (last - first).total_seconds() < 600 else "%H:%M"  # a short run
    end = last.strftime(clock if first.date() == last.date() else f"%Y-%m-%d {clock}")
    count = f"{len(records):,} record{'s' if len(records) != 1 else ''}"
    return f"ISS ground track  ·  {first.strftime('%Y-%m-%d ' + clock)} to {end} UTC  ·  {count}"


def _draw_base(ax: Any, when: datetime) -> Point:
    """Land, coastlines, the night side at ``when`` and the subsolar point; returns it."""
    from matplotlib.collections import LineCollection, PolyCollection

    rings, holes, coastlines = _natural_earth()
    ax.add_collection(PolyCollection(rings, facecolors=LAND, edgecolors="none", zorder=1))
    ax.add_collection(PolyCollection(holes, facecolors=OCEAN, edgecolors="none", zorder=1.5))
    ax.add_collection(LineCollection(coastlines, colors=COAST, linewidths=0.6, zorder=2))

    sun = subsolar_point(when)
    curve = terminator(sun)
    ax.fill_between(
        [p[0] for p in curve],
        [p[1] for p in curve],
        night_pole(sun),
        color=NIGHT,
        alpha=NIGHT_ALPHA,
        linewidth=0,
        zorder=3,
    )
    ax.plot(*sun, marker="o", markersize=9, color="#f5b800", markeredgecolor="#8a6d00", zorder=4)
    return sun


def render_map(
    records: Sequence[Record],
    out: Path,
    *,
    fmt: MapFormat = "png",
    size: tuple[int, int] = DEFAULT_SIZE,
) -> MapResult:
    """Write the ground track of ``records`` (any order; drawn in time order) to ``out``."""
    drawn = draw_map(records, size)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        drawn.figure.savefig(out, format=fmt, dpi=DPI, metadata=_metadata(fmt))
    except OSError as exc:
        raise LogbookInputError(f"cannot write {out}: {exc.strerror or exc}") from None
    return MapResult(out, fmt, size[0], size[1], drawn.box, drawn.records)


def draw_map(records: Sequence[Record], size: tuple[int, int] = DEFAULT_SIZE) -> DrawnMap:
    """The ground track of ``records`` (any order; drawn in time order) on a world map."""
    if not records:
        raise LogbookError("no records to draw (check --since/--until/--last and the log)")
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    ordered = in_time_order(records)
    width, height = size
    box = layout(width, height)
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)  # a renderer to measure the label with (savefig picks its own)
    ax = fig.add_axes(
        (
            box.left / width,
            1 - (box.top + box.height) / height,
            box.width / width,
            box.height / height,
        )
    )
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_facecolor(OCEAN)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor(COAST)

    _draw_base(ax, ordered[-1].time)

    kinds = [kind_of(r) for r in ordered]
    points = [(r.longitude, r.latitude) for r in ordered]
    runs = split_track(points, kinds, [r.time for r in ordered])
    for kind in COLOURS:
        segments = [run for k, run in runs if k == kind]
        if segments:
            ax.add_collection(
                LineCollection(
                    segments,
                    colors=COLOURS[kind],
                    linewidths=TRACK_WIDTH_PX * _PT,
                    capstyle="round",
                    joinstyle="round",
                    zorder=5,
                )
            )
        mine = [p for p, k in zip(points, kinds, strict=True) if k == kind]
        if mine and len(ordered) <= 2000:
            xs, ys = zip(*mine, strict=True)
            ax.scatter(xs, ys, s=(4 * _PT) ** 2, c=COLOURS[kind], zorder=6)

    last = ordered[-1]
    ax.plot(
        last.longitude,
        last.latitude,
        marker="o",
        markersize=14 * _PT,
        color=COLOURS[kinds[-1]],
        markeredgecolor="white",
        markeredgewidth=2 * _PT,
        zorder=7,
    )
    label = ax.annotate(
        f"last {last.time:%H:%M} UTC\n{last.latitude:.2f}, {last.longitude:.2f}",
        (last.longitude, last.latitude),
        xytext=(LABEL_OFFSET_PX, LABEL_OFFSET_PX),
        textcoords="offset pixels",
        ha="left",
        va="bottom",
        fontsize=max(7.0, height / 90),
        zorder=8,
        bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": COAST, "alpha": 0.85},
    )
    _keep_inside(label, ax)

    present = [k for k in COLOURS if k in kinds]
    handles = [
        Line2D([], [], color=COLOURS[k], linewidth=2.5, marker="o", markersize=4, label=LABELS[k])
        for k in present
    ]
    handles.append(
        Line2D(
            [],
            [],
            color=NIGHT,
            alpha=NIGHT_ALPHA * 2,
            linewidth=8,
            label=f"night at {last.time:%H:%M} UTC",
        )
    )
    handles.append(
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=9,
            color="#f5b800",
            label="subsolar point",
        )
    )
    ax.legend(handles=handles, loc="lower left", fontsize=max(7.0, height / 90), framealpha=0.9)
    fig.text(
        0.5,
        1 - (box.top / 2) / height,
        _title(ordered),
        ha="center",
        va="center",
        fontsize=max(9.0, height / 60),
    )
    fig.text(
        1 - 4 / width,
        4 / height,
        "Land and coastlines: Natural Earth (public domain)",
        ha="right",
        va="bottom",
        fontsize=max(6.0, height / 130),
        color="#666666",
    )
    return DrawnMap(fig, ax, label, box, len(ordered))


def _keep_inside(label: Any, ax: Any) -> None:
    """Flip the label of the last position to the left of its point where it would cross the
    map's right edge, and below it where it would cross the top, so none of it is cut off."""
    from matplotlib.transforms import Bbox

    renderer = label.figure.canvas.get_renderer()
    label.update_bbox_position_size(renderer)  # the frame around the text, as it will be drawn
    drawn = Bbox.union(
        [label.get_window_extent(renderer), label.get_bbox_patch().get_window_extent(renderer)]
    )
    inside = ax.get_window_extent(renderer)
    dx, dy = label.xyann
    if drawn.x1 > inside.x1:
        dx = -LABEL_OFFSET_PX
        label.set_horizontalalignment("right")
    if drawn.y1 > inside.y1:  # display y grows upwards
        dy = -LABEL_OFFSET_PX
        label.set_verticalalignment("top")
    label.xyann = (dx, dy)


def _metadata(fmt: MapFormat) -> dict[str, Any]:
    # No creation date: the same records give the same file.
    return {"Software": None} if fmt == "png" else {"Date": None}
