"""`crosstrack log` against the local two-account AWS (HTTPS, IAM decided by crosstrack's engine).

The log is written into a bucket in account B by the reporter's Ledger acting through the
generated ``account-b`` profile; `crosstrack log` then reads it as a user would: a
subprocess with the ``export`` lines of `crosstrack local up` in its environment, with
``--profile account-b``, with ``--role-arn`` (assuming B's role from the operator in A),
and without either (the operator in A: denied, a clear error, exit 1).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest

from crosstrack.reporter.ledger import Ledger
from crosstrack.reporter.positions import offline_position

pytestmark = pytest.mark.slow

BUCKET = "iss-reporting-logbook-test"
START = datetime(2025, 11, 10, 6, 0, tzinfo=UTC)
OPERATOR = "arn:aws:iam::111111111111:user/operator"
ROLE_B = "arn:aws:iam::222222222222:role/access-s3-bucket"


@pytest.fixture(scope="module")
def local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from crosstrack.local.emulator import LocalAWS

    aws = LocalAWS(tmp_path_factory.mktemp("log-local")).start()
    try:
        yield aws
    finally:
        aws.stop()


def _exports(aws: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for line in aws.export_lines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0]
    return env


def _client(aws: Any, service: str, profile: str | None = None) -> Any:
    session = botocore.session.Session(profile=profile)
    session.set_config_variable("config_file", str(aws.config_file))
    session.set_config_variable("credentials_file", str(aws.credentials_file))
    session.set_config_variable("ca_bundle", str(aws.ca_bundle))
    return boto3.Session(botocore_session=session).client(
        service, endpoint_url=aws.endpoint, verify=str(aws.ca_bundle), region_name="us-east-1"
    )


def _log(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys; from crosstrack.cli import main; "
        "sys.argv = ['crosstrack', *sys.argv[1:]]; main()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, "log", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def written(local_aws: Any) -> list[datetime]:
    """The bucket and role B, created through B's terraform role as a deploy would; the
    records appended by the reporter's Ledger as role B, assumed from the operator in A."""
    _client(local_aws, "s3", "account-b").create_bucket(Bucket=BUCKET)
    iam = _client(local_aws, "iam", "account-b")
    trust = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": OPERATOR}}
    iam.create_role(
        RoleName="access-s3-bucket",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
        # The only boundary the deploy role may create role B with (infra/bootstrap/).
        PermissionsBoundary="arn:aws:iam::222222222222:policy/crosstrack-target-role-boundary",
    )
    access = [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        },
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
    ]
    iam.put_role_policy(
        RoleName="access-s3-bucket",
        PolicyName="append-iss-log",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": access}),
    )
    sts = _client(local_aws, "sts")
    creds = sts.assume_role(RoleArn=ROLE_B, RoleSessionName="writer")["Credentials"]
    s3 = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    ).client(
        "s3",
        endpoint_url=local_aws.endpoint,
        verify=str(local_aws.ca_bundle),
        region_name="us-east-1",
    )
    ledger = Ledger(s3, BUCKET, "iss_position.txt", log_format="jsonl")
    times = [START + timedelta(minutes=5 * i) for i in range(4)]
    for when in times:
        ledger.append(offline_position(when), event_id=when.isoformat())
    return times


def test_log_with_profile_account_b(
    local_aws: Any, written: list[datetime], tmp_path: Path
) -> None:
    result = _log(
        _exports(local_aws),
        "--bucket",
        BUCKET,
        "--profile",
        "account-b",
        "--output",
        "json",
        "--infra",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["time"] for r in records] == [f"{t:%Y-%m-%dT%H:%M:%SZ}" for t in written]
    assert {r["source"] for r in records} == {"tle"}


def test_log_by_assuming_role_b_from_account_a(local_aws: Any, written: list[datetime]) -> None:
    result = _log(_exports(local_aws), "--bucket", BUCKET, "--role-arn", ROLE_B, "--last", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith(f"{written[-1]:%Y-%m-%d %H:%M:%S}")


def test_log_as_account_a_is_denied_clearly(local_aws: Any, written: list[datetime]) -> None:
    result = _log(_exports(local_aws), "--bucket", BUCKET)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "s3:GetObject was denied" in result.stderr
    assert "--profile account-b" in result.stderr
