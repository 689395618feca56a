"""`crosstrack doctor chain --profile ...` against the local AWS: roles made with boto3 (the
operator in A, B's terraform role through the generated ``account-b`` profile), read live with
read-only calls through the generated profiles. No Terraform."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from crosstrack.cli import app

pytestmark = pytest.mark.slow

A, B = "111111111111", "222222222222"
# B's terraform role may create and change only the role it deploys (infra/bootstrap/), so
# the chain's role in B carries that name.
APP, READER = f"arn:aws:iam::{A}:role/chain-app", f"arn:aws:iam::{B}:role/access-s3-bucket"
BUCKET = "iss-reporting-chain-doctor"  # the terraform role may create this prefix only
OBJECT = f"arn:aws:s3:::{BUCKET}/reports/today.json"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from crosstrack.local.emulator import LocalAWS

    aws = LocalAWS(tmp_path_factory.mktemp("doctor-chain")).start()
    try:
        yield aws
    finally:
        aws.stop()


@pytest.fixture
def env(local_aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for line in local_aws.export_lines():
        name, _, value = line.removeprefix("export ").partition("=")
        monkeypatch.setenv(name, value.strip("'\""))


@pytest.fixture(scope="module")
def deployed(local_aws: Any) -> None:
    """Role chain-app in A may assume access-s3-bucket in B, which may read the object."""
    import os

    saved = dict(os.environ)
    for line in local_aws.export_lines():
        name, _, value = line.removeprefix("export ").partition("=")
        os.environ[name] = value.strip("'\"")
    try:
        iam_a = boto3.Session().client("iam")
        iam_a.create_role(RoleName="chain-app", AssumeRolePolicyDocument=_doc(
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
             "Action": "sts:AssumeRole"}))  # fmt: skip
        iam_a.put_role_policy(RoleName="chain-app", PolicyName="assume-reader", PolicyDocument=_doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": READER}))  # fmt: skip
        b = boto3.Session(profile_name="account-b")
        trust = {"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "sts:AssumeRole"}
        b.client("iam").create_role(
            RoleName="access-s3-bucket", AssumeRolePolicyDocument=_doc(trust),
            # The only boundary the deploy role may create role B with (infra/bootstrap/).
            PermissionsBoundary="arn:aws:iam::222222222222:policy/crosstrack-target-role-boundary",
        )  # fmt: skip
        b.client("iam").put_role_policy(RoleName="access-s3-bucket", PolicyName="read",
                                        PolicyDocument=_doc({"Effect": "Allow",
                                        "Action": "s3:GetObject", "Resource": OBJECT}))  # fmt: skip
        b.client("s3").create_bucket(Bucket=BUCKET)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def chain(*extra: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, [
        "doctor", "chain", "--json", "--principal", APP, "--via", READER,
        "--action", "s3:GetObject", "--resource", OBJECT, "--resource-account", B,
        "--profile", f"{A}=account-a", "--profile", f"{B}=account-b", *extra,
    ])  # fmt: skip
    try:
        return result.exit_code, json.loads(result.stdout)
    except ValueError:
        raise AssertionError(result.output) from None


def test_live_chain_passes_then_fails_exactly_the_removed_permission(
    deployed: None, env: None
) -> None:
    code, document = chain()
    assert [r["id"] for r in document["rows"] if r["verdict"] != "pass"] == []
    assert code == 0
    # The bucket has no policy: get-bucket-policy's NoSuchBucketPolicy reads as "none".
    resource = next(r for r in document["rows"] if r["id"] == "final.resource")
    assert resource["verdict"] == "pass"

    b = boto3.Session(profile_name="account-b").client("iam")
    b.delete_role_policy(RoleName="access-s3-bucket", PolicyName="read")
    try:
        code, document = chain()
        assert [r["id"] for r in document["rows"] if r["verdict"] != "pass"] == ["final.identity"]
        broken = next(r for r in document["rows"] if r["id"] == "final.identity")
        assert (
            broken["principal"]
            == f"arn:aws:sts::{B}:assumed-role/access-s3-bucket/crosstrack-doctor"
        )
        assert broken["resource"] == OBJECT
        assert code == 1
    finally:
        b.put_role_policy(RoleName="access-s3-bucket", PolicyName="read", PolicyDocument=_doc(
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": OBJECT}))  # fmt: skip


def test_an_account_without_a_profile_is_unknown(deployed: None, env: None) -> None:
    result = CliRunner().invoke(app, [
        "doctor", "chain", "--json", "--principal", APP, "--via", READER,
        "--profile", f"{A}=account-a",
    ])  # fmt: skip
    document = json.loads(result.stdout)
    trust = next(r for r in document["rows"] if r["id"] == "hop1.trust")
    assert trust["verdict"] == "unknown"
    assert f"no --profile for account {B}" in trust["evidence"]
    assert result.exit_code == 1
