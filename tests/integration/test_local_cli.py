"""`crosstrack local up` as a user runs it: a subprocess, read by the real AWS CLI."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

EXPORT_NAMES = [
    "AWS_ENDPOINT_URL",
    "AWS_CA_BUNDLE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
]
STARTUP_SECONDS = 60


def _crosstrack(*args: str) -> list[str]:
    code = (
        "import sys; from crosstrack.cli import main; "
        "sys.argv = ['crosstrack', *sys.argv[1:]]; main()"
    )
    return [sys.executable, "-c", code, *args]


def _clean_env() -> dict[str, str]:
    # The user's own AWS settings must not leak into the server or the CLI under test.
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


class Running:
    def __init__(self, process: subprocess.Popen[str], exports: dict[str, str], lines: list[str]):
        self.process = process
        self.exports = exports
        self.lines = lines


def _start(workdir: Path, *extra: str) -> Running:
    process = subprocess.Popen(
        _crosstrack("local", "up", "--workdir", str(workdir), *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_clean_env(),
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while len(lines) < len(EXPORT_NAMES):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"local up did not print its export lines: {lines!r}\n{err}")
        line = process.stdout.readline()
        if line:
            lines.append(line.rstrip("\n"))
    exports = {}
    for line in lines:
        name, _, value = line.removeprefix("export ").partition("=")
        exports[name] = shlex.split(value)[0]
    return Running(process, exports, lines)


@pytest.fixture(scope="module")
def local_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = _start(tmp_path_factory.mktemp("local-up"))
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.communicate()


def test_stdout_is_exactly_the_export_lines_of_design_md(local_up: Running) -> None:
    patterns = [
        r"export AWS_ENDPOINT_URL=https://127\.0\.0\.1:\d+",
        r"export AWS_CA_BUNDLE=/\S+/tls/ca\.pem",
        r"export AWS_ACCESS_KEY_ID=AKIA[A-Z0-9]{16}",
        r"export AWS_SECRET_ACCESS_KEY=\S{40}",
        r"export AWS_DEFAULT_REGION=us-east-1",
        r"export AWS_CONFIG_FILE=/\S+/config",
        r"export AWS_SHARED_CREDENTIALS_FILE=/\S+/credentials",
    ]
    assert len(local_up.lines) == len(patterns)
    for line, pattern in zip(local_up.lines, patterns, strict=True):
        assert re.fullmatch(pattern, line), line
    assert list(local_up.exports) == EXPORT_NAMES


@pytest.fixture(scope="module")
def aws_cli() -> str:
    path = os.environ.get("CROSSTRACK_AWSCLI")
    if not path:
        pytest.skip(
            "CROSSTRACK_AWSCLI is unset: `python3 tasks.py test` installs awscli from "
            "requirements/awscli.lock into .venv-tools/awscli and exports it"
        )
    return path


def _aws(aws_cli: str, running: Running, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**_clean_env(), **running.exports}
    return subprocess.run(
        [aws_cli, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_awscli_sees_the_operator_in_account_a(aws_cli: str, local_up: Running) -> None:
    result = _aws(aws_cli, local_up, "sts", "get-caller-identity")
    assert result.returncode == 0, result.stderr
    identity = json.loads(result.stdout)
    assert identity["Account"] == "111111111111"
    assert identity["Arn"] == "arn:aws:iam::111111111111:user/operator"


def test_awscli_profile_account_b_assumes_the_terraform_role(
    aws_cli: str, local_up: Running
) -> None:
    listed = _aws(aws_cli, local_up, "s3", "ls", "--profile", "account-b")
    assert listed.returncode == 0, listed.stderr
    trust = _aws(
        aws_cli,
        local_up,
        "iam",
        "get-role",
        "--role-name",
        "terraform",
        "--profile",
        "account-b",
        "--query",
        "Role.AssumeRolePolicyDocument",
    )
    assert trust.returncode == 0, trust.stderr
    statement = json.loads(trust.stdout)["Statement"][0]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::111111111111:user/operator"}
    assert statement["Action"] == "sts:AssumeRole"
    # The role really was assumed, in account B, and audited.
    audit = Path(local_up.exports["AWS_CA_BUNDLE"]).parent.parent / "audit.jsonl"
    entries = [json.loads(line) for line in audit.read_text().splitlines()]
    assert any(
        re.fullmatch(
            r"arn:aws:sts::222222222222:assumed-role/terraform/operator-[0-9a-f]{8}",
            e.get("principal") or "",
        )
        and e["action"] == "iam:GetRole"
        and e["decision"] == "allowed"
        for e in entries
    )


def test_awscli_shows_aws_access_denied_message(aws_cli: str, local_up: Running) -> None:
    result = _aws(aws_cli, local_up, "s3", "mb", "s3://not-an-iss-bucket", "--profile", "account-b")
    assert result.returncode != 0
    assert re.search(
        r"\(AccessDenied\) when calling the CreateBucket operation: User: "
        r"arn:aws:sts::222222222222:assumed-role/terraform/operator-[0-9a-f]{8} is not "
        r'authorized to perform: s3:CreateBucket on resource: "arn:aws:s3:::not-an-iss-bucket" '
        r"because no identity-based policy allows the s3:CreateBucket action",
        result.stderr,
    ), result.stderr


def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    running = _start(tmp_path / "work")
    running.process.send_signal(signal.SIGINT)
    _, err = running.process.communicate(timeout=30)
    assert running.process.returncode == 0, err
    assert "stopped." in err


def test_sigterm_stops_cleanly_and_frees_the_port(tmp_path: Path) -> None:
    running = _start(tmp_path / "work")
    port = int(running.exports["AWS_ENDPOINT_URL"].rsplit(":", 1)[1])
    running.process.send_signal(signal.SIGTERM)
    running.process.communicate(timeout=30)
    assert running.process.returncode == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # raises if the server still held it


def test_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            _crosstrack("local", "up", "--port", str(port), "--workdir", str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=60,
            env=_clean_env(),
            check=False,
        )
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr


def test_missing_dependency_is_a_clear_error(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['moto'] = None; from crosstrack.cli import main; "
        f"sys.argv = ['crosstrack', 'local', 'up', '--workdir', {str(tmp_path)!r}]; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert "pip install 'crosstrack[local]'" in result.stderr
    assert result.stdout == ""
