"""Output: JSON shape, Mermaid and SVG colour each link by its verdict; bad input exits 2."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.unit.doctor import states as s
from typer.testing import CliRunner

from crosstrack.cli import app
from crosstrack.doctor import render
from crosstrack.doctor.diagnosis import diagnose


def _broken_rows() -> list:  # type: ignore[type-arg]
    st = s.state()
    st.role_b.trust = s.doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{s.A}:user/x"},
            "Action": "sts:AssumeRole",
        }
    )
    return diagnose(st)


def test_json_has_exactly_the_documented_keys() -> None:
    document = json.loads(render.as_json(_broken_rows()))
    assert set(document) == {"ok", "rows"}
    assert document["ok"] is False
    row = next(r for r in document["rows"] if r["id"] == "3.trust")
    assert row["verdict"] == "fail"
    assert row["link"] == 3
    assert set(row["statement"]) == {"policy", "index", "sid"}


def test_svg_is_xml_with_one_arrow_per_link_coloured_by_verdict() -> None:
    names = {"account_a": s.A, "account_b": s.B, "role_a": "role A <connect-to-bridge>"}
    text = render.svg(_broken_rows(), names)
    root = ET.fromstring(text)  # well-formed, labels escaped
    lines = [e for e in root.iter() if e.tag.endswith("line")]
    assert len(lines) == 6
    colours = [e.get("stroke") for e in lines]
    assert colours[3] == render.COLOURS[render.Verdict.FAIL]  # link 3
    assert colours[2] == render.COLOURS[render.Verdict.PASS]
    mermaid = render.mermaid(_broken_rows(), names)
    assert mermaid.startswith("flowchart LR")
    assert "✗ 3 trust" in mermaid


def test_unreadable_plan_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(app, ["doctor", "--plan", str(bad)])
    assert result.exit_code == 2
    bad.write_text('{"format_version": "1.2"}', encoding="utf-8")
    result = CliRunner().invoke(app, ["doctor", "--plan", str(bad)])
    assert result.exit_code == 2
    assert "terraform show -json" in result.output
