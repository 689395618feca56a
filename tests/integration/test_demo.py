"""`crosstrack demo`: the real infra/ deployed into the local AWS, run on its schedule.

One deployment (module scope) serves the intact-chain test and every breakage: each link is
broken, the next tick must fail at the right step with AWS's message and the audit entry
that denied it, and after the link is restored the next tick must succeed again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.local_helpers import deployed_demo

pytestmark = [
    pytest.mark.slow,
    pytest.mark.terraform,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH"),
]

RECORD = re.compile(
    r"Time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\nLatitude: -?\d+\.\d{4}\nLongitude: -?\d+\.\d{4}\n\n"
)
HEADER = "ISS Location Logs\n===================\n\n"
CROSSTRACK = Path(sys.executable).with_name("crosstrack")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with deployed_demo(tmp_path_factory.mktemp("demo")) as deployed:
        yield deployed


def log_text(demo: Any) -> str:
    return str(demo.read_log().decode("utf-8"))


def log_events(demo: Any, stream: str) -> list[str]:
    from moto.logs.models import logs_backends

    group = logs_backends["111111111111"]["us-east-1"].groups[
        f"/aws/lambda/{demo.deployment.function_name}"
    ]
    return [e.message for e in group.streams[stream].events]


def test_intact_chain_writes_the_log_and_the_function_logs(demo: Any) -> None:
    ticks = [demo.tick(), demo.tick()]

    assert all(t.ok and not t.logs_lost for t in ticks), [t.attempts for t in ticks]
    text = log_text(demo)
    assert text.startswith(HEADER)
    assert len(RECORD.findall(text)) >= 2
    assert text == HEADER + "".join(RECORD.findall(text))
    for tick in ticks:
        (attempt,) = tick.attempts
        assert attempt.result["statusCode"] == 200
        events = log_events(demo, attempt.log_stream)
        rid = attempt.request_id
        assert events[0] == f"START RequestId: {rid} Version: $LATEST"
        assert events[-2] == f"END RequestId: {rid}"
        assert events[-1].startswith(f"REPORT RequestId: {rid}\tDuration: ")
        # The handler's one JSON line made it into CloudWatch Logs.
        assert any('"outcome": "appended"' in e for e in events)
    rows = demo.chain()
    assert [r.number for r in rows] == ["0", "0", "1", "2", "3", "4", "5"]
    assert all(r.ok for r in rows), [(r.link, r.entry) for r in rows]


BREAKS = {
    # link: (where it fails, text of AWS's message that must appear)
    "schedule-invoke": ("invoke", "is not authorized to perform: lambda:InvokeFunction"),
    "a-trust": ("denied", "is not authorized to perform: sts:AssumeRole"),
    "a-assume": ("CredentialsError", "is not authorized to perform: sts:AssumeRole"),
    "b-trust": ("CredentialsError", "is not authorized to perform: sts:AssumeRole"),
    "b-s3": ("LogAccessDeniedError", "AccessDenied"),
    "bucket-policy": ("LogAccessDeniedError", "AccessDenied"),
}


@pytest.mark.parametrize("link", sorted(BREAKS))
def test_each_broken_link_fails_where_aws_would_and_recovers(demo: Any, link: str) -> None:
    where, message = BREAKS[link]
    before = log_text(demo)
    restore = demo.break_link(link)
    try:
        tick = demo.tick()
    finally:
        restore()

    assert not tick.ok
    if where == "invoke":
        assert (tick.firing.step, tick.firing.error_code) == ("invoke", "AccessDeniedException")
        assert message in tick.firing.message
    else:
        last = tick.attempts[-1]
        assert len(tick.attempts) == 3  # the deployed async retry policy: 2 retries
        if where == "denied":
            assert last.status == "denied"
        else:
            assert last.error["errorType"] == where
        assert message in last.error["errorMessage"]
    denial = demo.denial_since(tick.audit_from)
    assert denial is not None
    assert denial["decision"] in {"explicitDeny", "implicitDeny"}
    assert log_text(demo) == before  # nothing written, nothing lost

    again = demo.tick()
    assert again.ok, again.attempts
    assert log_text(demo).startswith(before)
    assert len(RECORD.findall(log_text(demo))) == len(RECORD.findall(before)) + 1


def test_broken_logs_permission_loses_the_logs_but_not_the_record(demo: Any) -> None:
    before = log_text(demo)
    restore = demo.break_link("logs")
    try:
        tick = demo.tick()
    finally:
        restore()

    assert tick.ok  # the function itself still works...
    assert tick.logs_lost  # ...but what it printed is gone, as in AWS
    (attempt,) = tick.attempts
    assert "logs:CreateLogStream" in (attempt.logs_error or "")
    assert len(RECORD.findall(log_text(demo))) == len(RECORD.findall(before)) + 1
    assert not demo.tick().logs_lost


def test_broken_deploy_role_stops_terraform_with_awss_message(demo: Any) -> None:
    from crosstrack.local.run.terraform import TerraformError

    restore = demo.break_link("deploy-role")
    try:
        with pytest.raises(TerraformError) as info:
            demo.terraform.plan()
    finally:
        restore()
    message = " ".join(str(info.value).split())  # terraform wraps its error text
    assert "is not authorized to perform: sts:AssumeRole on resource:" in message
    assert "arn:aws:iam::222222222222:role/terraform" in message
    changes, _ = demo.terraform.plan()
    assert changes is False  # restored: the deployment is as Terraform left it


def _aws_env(demo: Any) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **demo.aws.env(),
    }


def test_awscli_reads_the_log_as_the_original_post_does(demo: Any) -> None:
    aws = os.environ.get("CROSSTRACK_AWSCLI")
    if not aws:
        pytest.skip("CROSSTRACK_AWSCLI is not set (python3 tasks.py test installs awscli)")
    assert demo.tick().ok  # at least one record to show
    bucket = demo.deployment.bucket
    cp = subprocess.run(
        [aws, "s3", "cp", f"s3://{bucket}/iss_position.txt", "-", "--profile", "account-b"],
        env=_aws_env(demo),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == log_text(demo)


def test_aws_logs_tail_shows_the_function_logs(demo: Any) -> None:
    # `aws logs tail` exists in AWS CLI v2 only, which PyPI does not carry; tasks.py finds
    # one on PATH (Debian's `awscli` package is v2; CI installs it).
    aws = os.environ.get("CROSSTRACK_AWSCLI_V2")
    if not aws:
        pytest.skip(
            "no AWS CLI v2 on PATH (CROSSTRACK_AWSCLI_V2 unset): `aws logs tail` is v2-only"
        )
    tick = demo.tick()
    assert tick.ok
    function = demo.deployment.function_name
    # --endpoint-url: Debian's AWS CLI (2.9) predates the AWS_ENDPOINT_URL variable.
    endpoint = ["--endpoint-url", demo.aws.endpoint]
    tail = subprocess.run(
        [aws, "logs", "tail", f"/aws/lambda/{function}", "--since", "1h", *endpoint],
        env=_aws_env(demo),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert tail.returncode == 0, tail.stderr
    request_id = tick.attempts[-1].request_id
    assert f"START RequestId: {request_id} Version: $LATEST" in tail.stdout
    assert f"REPORT RequestId: {request_id}" in tail.stdout
    assert '"outcome": "appended"' in tail.stdout


def test_cli_demo_runs_to_completion(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            str(CROSSTRACK),
            "demo",
            "--ticks",
            "2",
            "--every",
            "0",
            "--offline",
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith(HEADER)
    assert len(RECORD.findall(proc.stdout)) == 2
    assert "The trust chain" in proc.stdout
    assert proc.stdout.count("✓") == 7
    assert "[4/5] firing the schedule 2 time(s)" in proc.stderr


def test_cli_demo_break_shows_the_failure_and_exits_1(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            str(CROSSTRACK),
            "demo",
            "--ticks",
            "1",
            "--offline",
            "--break",
            "b-trust",
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "tick 1: FAILED" in proc.stderr
    assert "is not authorized to perform: sts:AssumeRole" in proc.stderr
    assert "denied by the local AWS (audit log)" in proc.stderr
    assert "The trust chain" in proc.stdout
