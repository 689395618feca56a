"""The map: projection, antimeridian split, the Sun, and a PNG checked pixel by pixel."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from logdata import jsonl_records, live, positions

from crosstrack.errors import InputError
from crosstrack.logbook.errors import MapExtraMissingError
from crosstrack.logbook.projection import (
    MapBox,
    is_night,
    map_box,
    split_track,
    subsolar_point,
    terminator,
    to_pixel,
)
from crosstrack.logbook.records import Record, parse_log
from crosstrack.reporter.positions import Position

T0 = datetime(2025, 11, 10, 6, 0, tzinfo=UTC)


def test_equirectangular_pixels() -> None:
    box = MapBox(left=10, top=50, width=720, height=360)
    assert to_pixel(-180, 90, box) == (10, 50)
    assert to_pixel(180, -90, box) == (730, 410)
    assert to_pixel(0, 0, box) == (370, 230)
    assert to_pixel(90, 45, box) == (550, 140)


def test_map_box_is_two_to_one_below_the_title() -> None:
    box = map_box(1600, 900, top_band=60, margin=16)
    assert box.width == 2 * box.height
    assert box.top >= 60
    assert box.left + box.width <= 1600 - 16 + 1e-9
    assert box.top + box.height <= 900 - 16 + 1e-9


def test_track_split_at_the_antimeridian_with_interpolated_edges() -> None:
    points = [(170.0, 10.0), (-170.0, 20.0), (-160.0, 25.0)]
    runs = split_track(points, ["live"] * 3)
    assert runs == [
        ("live", [(170.0, 10.0), (180.0, 15.0)]),
        ("live", [(-180.0, 15.0), (-170.0, 20.0), (-160.0, 25.0)]),
    ]
    westward = split_track([(-175.0, 0.0), (175.0, -10.0)], ["tle", "tle"])
    assert westward == [
        ("tle", [(-175.0, 0.0), (-180.0, -5.0)]),
        ("tle", [(180.0, -5.0), (175.0, -10.0)]),
    ]


def test_track_split_where_the_source_changes_and_at_gaps() -> None:
    points = [(0.0, 0.0), (10.0, 5.0), (20.0, 10.0), (30.0, 15.0), (40.0, 20.0)]
    times = [
        T0,
        T0 + timedelta(minutes=5),
        T0 + timedelta(minutes=10),
        T0 + timedelta(hours=2),
        T0 + timedelta(hours=2, minutes=5),
    ]
    runs = split_track(points, ["live", "live", "tle", "tle", "tle"], times)
    assert runs == [
        ("live", [(0.0, 0.0), (10.0, 5.0)]),
        ("tle", [(10.0, 5.0), (20.0, 10.0)]),  # continuous: starts at the last live point
        ("tle", [(30.0, 15.0), (40.0, 20.0)]),  # the 110-minute gap is not drawn
    ]


def test_real_ground_track_splits_exactly_at_its_crossings() -> None:
    records = parse_log(jsonl_records(positions(100, step_minutes=1))).records
    points = [(r.longitude, r.latitude) for r in records]
    crossings = sum(1 for a, b in itertools.pairwise(points) if abs(b[0] - a[0]) > 180)
    runs = split_track(points, ["tle"] * len(points))
    assert crossings >= 1
    assert len(runs) == crossings + 1
    for _, run in runs:
        assert all(abs(b[0] - a[0]) < 30 for a, b in itertools.pairwise(run))


@pytest.mark.parametrize(
    ("when", "lon", "lat"),
    [
        # March equinox 2024 (03:06 UTC): declination ~0; at 12:00 UTC the equation of time
        # is about -7.5 min, so the Sun is overhead ~1.9 degrees east of Greenwich.
        (datetime(2024, 3, 20, 12, 0, tzinfo=UTC), 1.9, 0.0),
        # Longitude = -15 * (UTC hours - 12 + equation of time / 60).
        # June solstice 2024 (20:51 UTC): declination +23.44, equation of time ~-1.7 min.
        (datetime(2024, 6, 20, 20, 51, tzinfo=UTC), -132.3, 23.44),
        # December solstice 2024 (09:20 UTC): declination -23.44, equation of time ~+1.9 min.
        (datetime(2024, 12, 21, 9, 20, tzinfo=UTC), 39.5, -23.44),
    ],
)
def test_subsolar_point(when: datetime, lon: float, lat: float) -> None:
    got_lon, got_lat = subsolar_point(when)
    assert got_lat == pytest.approx(lat, abs=0.3)
    assert got_lon == pytest.approx(lon, abs=0.5)


def test_terminator_separates_day_from_night() -> None:
    sun = subsolar_point(datetime(2025, 11, 10, 9, 0, tzinfo=UTC))
    assert not is_night(sun, sun)
    assert is_night((sun[0] + 180 - 360 * (sun[0] > 0), -sun[1]), sun)
    for lon, lat in terminator(sun, steps=73):
        if abs(lat) < 85:  # either side of the curve: one is day, the other night
            assert is_night((lon, lat - 2), sun) != is_night((lon, lat + 2), sun)


# ------------------------------------------------------------------- the image

pytest.importorskip("matplotlib")


def _rgb(image: object, x: float, y: float) -> tuple[int, int, int]:
    pixel = image.getpixel((int(x), int(y)))  # type: ignore[attr-defined]
    return pixel[0], pixel[1], pixel[2]


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _blend(colour: str, over: str, alpha: float) -> tuple[int, int, int]:
    base, top = _hex(colour), _hex(over)
    return tuple(round(b * (1 - alpha) + t * alpha) for b, t in zip(base, top, strict=True))  # type: ignore[return-value]


def _close(a: tuple[int, int, int], b: tuple[int, int, int], tol: int = 6) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_png_of_the_requested_size_shows_track_land_and_ocean(tmp_path: Path) -> None:
    from PIL import Image

    from crosstrack.logbook import worldmap

    items = positions(19)
    records = list(parse_log(jsonl_records([*[live(p) for p in items[:9]], *items[9:]])).records)
    result = worldmap.render_map(records, tmp_path / "m.png", size=(1200, 700))
    image = Image.open(result.path).convert("RGB")
    assert image.size == (1200, 700)
    box = result.box
    assert box == worldmap.layout(1200, 700)

    sun = subsolar_point(records[-1].time)

    def expected(colour: str, lon: float, lat: float) -> tuple[int, int, int]:
        if is_night((lon, lat), sun):
            return _blend(colour, worldmap.NIGHT, worldmap.NIGHT_ALPHA)
        return _hex(colour)

    # Track: the midpoint of a segment between two records, away from markers.
    for a, b, kind in ((records[2], records[3], "live"), (records[12], records[13], "tle")):
        lon, lat = (a.longitude + b.longitude) / 2, (a.latitude + b.latitude) / 2
        assert abs(a.longitude - b.longitude) < 90
        assert _close(_rgb(image, *to_pixel(lon, lat, box)), _hex(worldmap.COLOURS[kind])), kind
    # Land: the middle of Africa and of Australia; ocean: the South Pacific.
    for lon, lat in ((20.0, 5.0), (134.0, -25.0)):
        assert _close(_rgb(image, *to_pixel(lon, lat, box)), expected(worldmap.LAND, lon, lat))
    assert _close(
        _rgb(image, *to_pixel(-120.0, -45.0, box)), expected(worldmap.OCEAN, -120.0, -45.0)
    )


def _ending_at(lon: float, lat: float) -> list[Record]:
    """Two live records, the last at (lon, lat)."""
    items = [
        Position(T0, 0.0, 0.0, "open-notify"),
        Position(T0 + timedelta(minutes=5), lat, lon, "open-notify"),
    ]
    return list(parse_log(jsonl_records(items)).records)


@pytest.mark.parametrize("size", [(1600, 900), (400, 225)])
@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (159.58, -28.74),  # docs/map.png's last point: its label ran off the right edge
        (179.9, 0.0),
        (0.0, 89.9),
        (179.9, 89.9),
        (-179.9, 89.9),
        (179.9, -89.9),
        (-179.9, -89.9),
        (0.0, 0.0),
    ],
)
def test_the_last_position_label_lies_inside_the_map_beside_its_point(
    size: tuple[int, int], lon: float, lat: float
) -> None:
    from crosstrack.logbook import worldmap

    drawn = worldmap.draw_map(_ending_at(lon, lat), size)
    drawn.figure.canvas.draw()  # lay the label out as a saved image would
    renderer = drawn.figure.canvas.get_renderer()
    inside = drawn.axes.get_window_extent(renderer)
    frame = drawn.label.get_bbox_patch().get_window_extent(renderer)
    for extent in (drawn.label.get_window_extent(renderer), frame):
        assert inside.x0 <= extent.x0 <= extent.x1 <= inside.x1, (extent, inside)
        assert inside.y0 <= extent.y0 <= extent.y1 <= inside.y1, (extent, inside)
    x, y = drawn.axes.transData.transform((lon, lat))
    gap_x = max(frame.x0 - x, x - frame.x1, 0)
    gap_y = max(frame.y0 - y, y - frame.y1, 0)
    assert (gap_x**2 + gap_y**2) ** 0.5 <= 20  # beside its point, not somewhere else
    if (lon, lat) == (0.0, 0.0):  # room everywhere: above and to the right, as before
        assert frame.x0 > x
        assert frame.y0 > y


def test_nothing_of_the_label_is_drawn_outside_the_map(tmp_path: Path) -> None:
    from PIL import Image

    from crosstrack.logbook import worldmap

    result = worldmap.render_map(_ending_at(159.58, -28.74), tmp_path / "m.png")
    image = Image.open(result.path).convert("RGB")
    box = result.box
    # The white margin right of the map, beside it: no pixel of the label's text or frame.
    right = range(int(box.left + box.width) + 3, result.width)
    rows = range(int(box.top), int(box.top + box.height))
    assert all(min(_rgb(image, x, y)) >= 250 for x in right for y in rows)


def test_svg_by_suffix_and_size_and_format_flags(tmp_path: Path) -> None:
    from crosstrack.logbook import worldmap

    assert worldmap.format_for(tmp_path / "a.svg", None) == "svg"
    assert worldmap.format_for(tmp_path / "a.png", None) == "png"
    assert worldmap.format_for(tmp_path / "a", None) == "png"
    assert worldmap.format_for(tmp_path / "a.img", "svg") == "svg"
    with pytest.raises(InputError, match="png or svg"):
        worldmap.format_for(tmp_path / "a.png", "gif")
    assert worldmap.parse_size("800x450") == (800, 450)
    for bad in ("800", "0x0", "axb", "99999x10"):
        with pytest.raises(InputError, match="--size"):
            worldmap.parse_size(bad)
    records = parse_log(jsonl_records(positions(3))).records
    out = worldmap.render_map(records, tmp_path / "m.svg", fmt="svg", size=(400, 250)).path
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_no_records_is_a_clear_error(tmp_path: Path) -> None:
    from crosstrack.logbook import worldmap
    from crosstrack.logbook.errors import LogbookError

    with pytest.raises(LogbookError, match="no records"):
        worldmap.render_map([], tmp_path / "m.png")


def test_without_matplotlib_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from crosstrack.logbook import worldmap

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    record = Record(T0, 1.0, 2.0)
    with pytest.raises(MapExtraMissingError, match=r"pip install 'crosstrack\[map\]'") as info:
        worldmap.render_map([record], tmp_path / "m.png")
    assert info.value.exit_code == 1
    assert not (tmp_path / "m.png").exists()


def test_core_cli_and_log_never_import_matplotlib(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(jsonl_records(positions(2)), encoding="utf-8")
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from crosstrack.cli import app\n"
        f"r = CliRunner().invoke(app, ['log', {str(log)!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
