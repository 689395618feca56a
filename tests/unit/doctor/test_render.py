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


HOSTILE = {
    "account_a": 'A"]\nend\nclick x "javascript:alert(1)"',
    "account_b": "<script>alert(1)</script> & co",
    "role_a": 'ro"le[x](y){z}<b>#amp;|',
    "function": "f\x1b[31m\x00\x07",
}


def test_svg_with_hostile_names_is_well_formed_and_escaped() -> None:
    text = render.svg(_broken_rows(), HOSTILE)
    root = ET.fromstring(text)  # control characters would make it ill-formed XML
    assert "<script>" not in text
    assert "\x1b" not in text
    labels = " ".join(e.text or "" for e in root.iter() if e.tag.endswith("text"))
    assert "<script>alert(1)</script> & co" in labels  # escaped in the file, shown as is


def test_mermaid_with_hostile_names_keeps_one_statement_a_line() -> None:
    text = render.mermaid(_broken_rows(), HOSTILE)
    lines = text.splitlines()
    # the structure is exactly the fixed one: no name adds a line, a subgraph or a click
    assert len(lines) == 1 + 2 * 6 + 2 * 6
    assert [ln.strip() for ln in lines].count("end") == 2
    assert not any(ln.strip().startswith("click") for ln in lines)
    for line in lines:
        if "[" in line and '"' in line:  # a node or subgraph: exactly its two quotes
            assert line.count('"') == 2, line
    assert "<script>" not in text
    assert "\x1b" not in text


def test_table_with_markup_and_escapes_in_names_prints_them_literally() -> None:
    import io
    from dataclasses import replace

    from rich.console import Console

    row = replace(
        _broken_rows()[0],
        principal="arn:aws:iam::111111111111:user/[/]x[bold red]y",
        resource="arn:aws:s3:::b/k\x1b]0;title\x07",
    )
    console = Console(file=io.StringIO(), width=300, force_terminal=False)
    console.print(render.table([row], "explain: s3:[/]PutObject"))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "[/]x[bold red]y" in out
    assert "\x1b" not in out
    assert "s3:[/]PutObject" in out


def test_chain_help_shows_the_file_naming_scheme() -> None:
    # The CLI renders help as Markdown: "<command>" would be swallowed as an HTML tag.
    result = CliRunner().invoke(app, ["doctor", "chain", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    assert "COMMAND.NAMES.json" in result.output
    assert "DIR/ACCOUNT_ID/" in result.output
