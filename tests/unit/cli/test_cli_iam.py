"""`crosstrack iam simulate`: JSON and JSON Lines in, results out, exit codes as documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from crosstrack.cli import app

RUNNER = CliRunner()
ROLE_A = "arn:aws:sts::111111111111:assumed-role/connect-to-bridge/s1"
ROLE_B = "arn:aws:iam::222222222222:role/access-s3-bucket"


def _case(trusted: str) -> dict[str, Any]:
    return {
        "request": {"principal": ROLE_A, "action": "sts:AssumeRole", "resource": ROLE_B},
        "identity_policies": [
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE_B}],
            }
        ],
        "resource_policy": {
            "name": "trust-b",
            "document": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TrustA",
                        "Effect": "Allow",
                        "Principal": {"AWS": trusted},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
        },
    }


ALLOWED = _case("arn:aws:iam::111111111111:role/connect-to-bridge")
DENIED = _case("arn:aws:iam::111111111111:role/someone-else")


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_one_object_gives_one_result_object(tmp_path: Path) -> None:
    file = _write(tmp_path, "case.json", json.dumps(ALLOWED, indent=2))
    result = RUNNER.invoke(app, ["iam", "simulate", file])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["decision"] == "allowed"
    assert out["matched"][0] == {
        "layer": "resource_policy",
        "policy": "trust-b",
        "statement": 0,
        "sid": "TrustA",
        "effect": "Allow",
    }


def test_json_lines_give_one_line_per_case(tmp_path: Path) -> None:
    text = "\n".join(json.dumps(c) for c in (ALLOWED, DENIED, ALLOWED)) + "\n\n"
    file = _write(tmp_path, "cases.jsonl", text)
    result = RUNNER.invoke(app, ["iam", "simulate", file])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["decision"] for r in lines] == ["allowed", "implicitDeny", "allowed"]
    assert lines[1]["missing_allow"] == ["resource_policy"]
    assert (
        "does not allow arn:aws:iam::111111111111:role/connect-to-bridge" in lines[1]["explanation"]
    )


def test_stdin_and_fail_on_deny() -> None:
    text = json.dumps(ALLOWED) + "\n" + json.dumps(DENIED) + "\n"
    result = RUNNER.invoke(app, ["iam", "simulate", "-", "--fail-on-deny"], input=text)
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 2
    allowed_only = RUNNER.invoke(
        app, ["iam", "simulate", "-", "--fail-on-deny"], input=json.dumps(ALLOWED)
    )
    assert allowed_only.exit_code == 0, allowed_only.output


def test_deny_without_fail_on_deny_exits_zero() -> None:
    result = RUNNER.invoke(app, ["iam", "simulate", "-"], input=json.dumps(DENIED))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["decision"] == "implicitDeny"


def test_invalid_policy_exits_2_naming_line_and_path(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(DENIED))
    bad["identity_policies"][0]["Statement"][0]["Effect"] = "Permit"
    file = _write(tmp_path, "cases.jsonl", json.dumps(ALLOWED) + "\n" + json.dumps(bad) + "\n")
    result = RUNNER.invoke(app, ["iam", "simulate", file])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{file}:2: $.identity_policies[0].Statement[0].Effect" in result.stderr


def test_unreadable_or_malformed_input_exits_2(tmp_path: Path) -> None:
    missing = RUNNER.invoke(app, ["iam", "simulate", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2
    assert "cannot read" in missing.stderr
    garbage = RUNNER.invoke(app, ["iam", "simulate", "-"], input='{"request": \n')
    assert garbage.exit_code == 2
    assert "<stdin>:1: not valid JSON" in garbage.stderr
    array = RUNNER.invoke(app, ["iam", "simulate", "-"], input="[1, 2]")
    assert array.exit_code == 2
    assert "JSON Lines" in array.stderr


def test_explain_prints_the_human_view() -> None:
    result = RUNNER.invoke(app, ["iam", "simulate", "-", "--explain"], input=json.dumps(DENIED))
    assert result.exit_code == 0, result.output
    assert "implicitDeny" in result.stdout
    assert "missing Allow in: resource_policy" in result.stdout
    assert "principal not matched" in result.stdout  # the per-statement trace
    assert not result.stdout.lstrip().startswith("{")


def test_installed_entry_point(tmp_path: Path) -> None:
    file = _write(tmp_path, "case.json", json.dumps(DENIED))
    exe = Path(sys.executable).with_name("crosstrack")
    done = subprocess.run(
        [str(exe), "iam", "simulate", file, "--fail-on-deny"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["decision"] == "implicitDeny"
