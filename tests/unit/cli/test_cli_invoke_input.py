"""`crosstrack invoke --event`: an event it cannot read is a usage error (exit 2), never a
traceback, and the handler is not run."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from crosstrack.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "payload",
    [
        b"\xff\xfe{}",  # not UTF-8
        b"[" * 100_000 + b"]" * 100_000,  # RecursionError in json
        b'{"n": 1' + b"0" * 5000 + b"}",  # a 5,000-digit integer: ValueError in int()
        b"{",  # plain bad JSON
    ],
)
def test_an_unreadable_event_file_is_a_usage_error(tmp_path: Path, payload: bytes) -> None:
    event = tmp_path / "event.json"
    event.write_bytes(payload)
    result = runner.invoke(app, ["invoke", "--event", f"@{event}"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_deeply_nested_inline_event_is_a_usage_error() -> None:
    result = runner.invoke(app, ["invoke", "--event", "[" * 100_000])
    assert result.exit_code == 2, result.output
