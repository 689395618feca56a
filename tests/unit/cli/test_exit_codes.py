"""Errors a user causes end in one ``Error:`` line on stderr and README's exit code, through
the real console script (``crosstrack``, the entry point ``main()`` catches errors in), with
no traceback."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crosstrack.errors import CrosstrackError, InputError

CROSSTRACK = Path(sys.executable).with_name("crosstrack")
SRC = Path(__file__).resolve().parents[3] / "src"
INFRA = SRC.parent / "infra"


def _run(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [str(CROSSTRACK), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _one_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_console_script_exists() -> None:
    assert CROSSTRACK.is_file(), f"no console script at {CROSSTRACK}"


def test_a_bad_case_file_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"request": ', encoding="utf-8")
    result = _run("iam", "simulate", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "bad.json:1: not valid JSON" in _one_error(result)
    assert result.stdout == ""


def test_an_invalid_policy_in_a_case_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(
        '{"request": {"principal": "arn:aws:iam::111111111111:user/u", "action": "s3:GetObject",'
        ' "resource": "*"}, "identity_policies": [{"Statement": "nope"}]}',
        encoding="utf-8",
    )
    result = _run("iam", "simulate", str(case), cwd=tmp_path)
    assert result.returncode == 2
    assert "$.identity_policies[0].Statement" in _one_error(result)


def test_a_bad_link_name_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    # Checked before anything starts: no local AWS, no Terraform.
    result = _run("demo", "--break", "nope", "--workdir", str(tmp_path / "w"), cwd=tmp_path)
    assert result.returncode == 2
    line = _one_error(result)
    assert "unknown link 'nope'" in line
    assert "schedule-invoke" in line
    assert not (tmp_path / "w").exists()


@pytest.mark.slow
@pytest.mark.terraform
@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH")
def test_a_cron_schedule_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    # infra/ accepts cron(...) (AWS does); the local scheduler fires rate(...) only.
    infra = tmp_path / "infra"
    shutil.copytree(INFRA, infra, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    variables = infra / "variables.tf"
    text = variables.read_text(encoding="utf-8")
    assert 'default     = "rate(5 minutes)"' in text
    variables.write_text(
        text.replace('default     = "rate(5 minutes)"', 'default     = "cron(0/5 * * * ? *)"'),
        encoding="utf-8",
    )
    result = _run(
        "demo",
        "--offline",
        "--ticks",
        "1",
        "--every",
        "0",
        "--infra",
        str(infra),
        "--workdir",
        str(tmp_path / "w"),
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    line = _one_error(result)
    assert re.search(r"schedule expression 'cron\(0/5 \* \* \* \? \*\)' is not supported", line)


@pytest.mark.parametrize(
    ("module", "name", "code"),
    [
        ("crosstrack.local.run.scheduler", "ScheduleError", 2),
        ("crosstrack.local.run.links", "LinkError", 2),
        ("crosstrack.local.run.demo", "DemoError", 1),
        ("crosstrack.local.run.terraform", "TerraformError", 1),
    ],
)
def test_domain_errors_share_the_base(module: str, name: str, code: int) -> None:
    cls = getattr(__import__(module, fromlist=[name]), name)
    assert issubclass(cls, CrosstrackError)
    assert cls.exit_code == code
    assert issubclass(cls, InputError) == (code == 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arch", "sparc"], "--arch 'sparc': choose arm64 or x86_64"),
        (["--python", "3.9"], "--python '3.9': choose 3.11, 3.12 or 3.13"),
    ],
)
def test_a_bad_package_target_is_one_error_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = _run("package", "-o", str(tmp_path / "x.zip"), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert _one_error(result) == f"Error: {message}"
    assert result.stderr.count("\n") == 1  # nothing else: no usage, no boxed panel
    assert not (tmp_path / "x.zip").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--event", "{}", "--scheduled"], "give either --event or --scheduled, not both"),
        (["--event", "{"], "--event: not JSON: Expecting property name enclosed in double"),
        (["--event", "@missing.json"], "--event: cannot read missing.json: No such file"),
        (["--event", "[" * 100_000], "--event: not usable JSON: nested too deeply"),
    ],
)
def test_an_unusable_invoke_event_is_one_error_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    # The event is read before the handler runs: no configuration, no AWS needed.
    result = _run("invoke", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert _one_error(result).startswith(f"Error: {message}")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
