"""`crosstrack local up` warns when the aws on PATH is too old to follow AWS_ENDPOINT_URL:
such a CLI (before 1.29.0 / 2.13.0) would send the commands the user pastes to AWS itself."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from crosstrack.local.setup.profiles import aws_cli_warning


def _fake_aws(tmp_path: Path, answer: str, *, stderr: bool = False) -> str:
    script = tmp_path / "aws"
    stream = ">&2" if stderr else ""
    script.write_text(f"#!/bin/sh\necho '{answer}' {stream}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


@pytest.mark.parametrize(
    ("answer", "warns"),
    [
        ("aws-cli/2.9.19 Python/3.11.2 Linux/6.1 source/x86_64.debian.12 prompt/off", True),
        ("aws-cli/2.12.7 Python/3.11.4 Linux/6.1 exe/x86_64", True),
        ("aws-cli/2.13.0 Python/3.11.4 Linux/6.1 exe/x86_64", False),
        ("aws-cli/2.22.35 Python/3.12.6 Linux/6.1 exe/x86_64", False),
        ("aws-cli/1.27.0 Python/3.11.7 Linux/6.1 botocore/1.29.0", True),
        ("aws-cli/1.29.0 Python/3.11.7 Linux/6.1 botocore/1.31.0", False),
        ("aws-cli/1.36.40 Python/3.11.7 Linux/6.1 botocore/1.35.99", False),
        ("not an aws cli at all", False),
        ("aws-cli/3.0.0 Python/3.13", False),  # a version this code does not know: no guess
    ],
)
def test_warns_only_for_a_cli_that_ignores_the_endpoint(
    tmp_path: Path, answer: str, warns: bool
) -> None:
    warning = aws_cli_warning(_fake_aws(tmp_path, answer))
    assert (warning is not None) == warns, warning
    if warning is not None:
        assert answer.split(maxsplit=1)[0] in warning
        assert "AWS_ENDPOINT_URL" in warning
        assert "--endpoint-url" in warning


def test_awscli_v1_prints_its_version_on_stderr(tmp_path: Path) -> None:
    warning = aws_cli_warning(_fake_aws(tmp_path, "aws-cli/1.18.69 Python/3.8", stderr=True))
    assert warning is not None
    assert "aws-cli/1.18.69" in warning


def test_no_aws_or_one_that_cannot_run_is_no_warning(tmp_path: Path) -> None:
    assert aws_cli_warning(str(tmp_path / "missing-aws")) is None
    broken = tmp_path / "aws"
    broken.write_text("not a script")
    broken.chmod(0o755)
    assert aws_cli_warning(str(broken)) is None
