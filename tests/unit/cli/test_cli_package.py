"""`crosstrack package`: options, output, and errors as a user sees them."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crosstrack.cli import app
from crosstrack.packaging import filebase64sha256

runner = CliRunner()


@pytest.mark.slow
def test_package_prints_size_and_the_hash_terraform_computes(tmp_path: Path) -> None:
    out = tmp_path / "slim.zip"
    result = runner.invoke(
        app, ["package", "-o", str(out), "--no-sdk", "--python", "3.12", "--arch", "arm64"]
    )
    assert result.exit_code == 0, result.output
    size = re.search(r"(\d+) bytes", result.stdout)
    digest = re.search(r"filebase64sha256: (\S+)", result.stdout)
    assert size, result.stdout
    assert digest, result.stdout
    assert int(size[1]) == out.stat().st_size
    assert digest[1] == filebase64sha256(out)
    assert "python3.12 arm64" in result.stdout
    with zipfile.ZipFile(out) as zf:
        assert "crosstrack/reporter/handler.py" in zf.namelist()
        assert not any(n.startswith("botocore/") for n in zf.namelist())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arch", "sparc"], "--arch 'sparc': choose arm64 or x86_64"),
        (["--python", "3.9"], "--python '3.9': choose 3.11, 3.12 or 3.13"),
    ],
)
def test_bad_target_is_a_usage_error(args: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["package", "-o", str(tmp_path / "x.zip"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "x.zip").exists()


def test_unusable_lock_is_an_actionable_error(tmp_path: Path) -> None:
    lock = tmp_path / "lambda.lock"
    lock.write_text("boto3>=1.0\n")
    result = runner.invoke(app, ["package", "-o", str(tmp_path / "x.zip"), "--lock", str(lock)])
    assert result.exit_code == 1
    assert "not an exact pin" in result.stderr
