"""The emulator's decisions: crosstrack.iam.evaluate on parsed policies, audited as before;
a policy written through the API is seen on the next request; only an invalid policy is a
deny, any other failure a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from crosstrack.iam import Decision, simulate
from crosstrack.local import ACCOUNT_A, LocalAWS
from crosstrack.local.auth.audit import AuditLog
from crosstrack.local.auth.decisions import Decider, EngineFailure, Question

USER = f"arn:aws:iam::{ACCOUNT_A}:user/alice"
ALLOW_GET = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Get", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}


def _question(**policies: Any) -> Question:
    return Question(
        principal=USER,
        action="s3:GetObject",
        resource="arn:aws:s3:::b/k",
        resource_account=ACCOUNT_A,
        context={"aws:SecureTransport": "true"},
        **policies,
    )


def _entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    "policies",
    [
        {"identity_policies": [{"name": "p", "document": ALLOW_GET}]},
        {"identity_policies": []},
        {
            "identity_policies": [{"name": "p", "document": ALLOW_GET}],
            "resource_policy": {
                "name": "bucket policy of b",
                "document": {
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": "*",
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                        {
                            "Effect": "Deny",
                            "Principal": {"AWS": USER},
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::b/*",
                        },
                    ]
                },
            },
        },
    ],
)
def test_the_audit_line_says_what_simulate_said(tmp_path: Path, policies: Any) -> None:
    question = _question(**policies)
    audit = tmp_path / "audit.jsonl"
    Decider(AuditLog(audit)).ask(question, via="test", request_id="r")
    (entry,) = _entries(audit)
    case = {
        "request": {
            "principal": USER,
            "action": question.action,
            "resource": question.resource,
            "resource_account": ACCOUNT_A,
            "context": dict(question.context),
        },
        "identity_policies": question.identity_policies,
        "resource_policy": question.resource_policy,
    }
    expected = simulate(case)
    for key in ("decision", "decided_by", "matched", "missing_allow", "explanation"):
        assert entry[key] == expected[key], key


def test_an_invalid_policy_is_an_audited_deny_naming_it(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    bad = {"name": "broken-inline", "document": {"Statement": [{"Effect": "Maybe"}]}}
    decision = Decider(AuditLog(audit)).ask(
        _question(identity_policies=[bad]), via="test", request_id="r"
    )
    assert isinstance(decision, Decision)
    assert not decision.allowed
    (entry,) = _entries(audit)
    assert entry["decision"] == "implicitDeny"
    assert entry["invalid_policy"] == "broken-inline"
    assert "broken-inline" in entry["explanation"]
    assert "Effect" in entry["explanation"]


def test_an_engine_bug_is_not_a_deny(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Decision:
        raise ZeroDivisionError("a bug")

    audit = tmp_path / "audit.jsonl"
    decider = Decider(AuditLog(audit), engine=broken)
    with pytest.raises(EngineFailure, match="a bug"):
        decider.ask(_question(), via="test", request_id="r")
    assert "Traceback" in capsys.readouterr().err
    assert audit.read_text() == ""  # nothing audited as if a policy had decided


def test_the_audit_log_stays_owner_only_and_readable_as_written(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for n in range(3):
        log.append({"n": n})
        assert _entries(path)[-1] == {"n": n}  # seen at once, without closing
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(log.entries()) == [{"n": 0}, {"n": 1}, {"n": 2}]


# ---------------------------------------------------------------- through the local AWS
@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAWS]:
    with LocalAWS(tmp_path_factory.mktemp("local-aws")) as running:
        yield running


def _client(aws: LocalAWS, service: str, **keys: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=aws.endpoint,
        verify=str(aws.ca_bundle),
        region_name="us-east-1",
        aws_access_key_id=keys.get("id", aws.operator.access_key_id),
        aws_secret_access_key=keys.get("secret", aws.operator.secret_access_key),
        aws_session_token=keys.get("token"),
        config=Config(retries={"total_max_attempts": 1}),
    )


def _policy(effect: str) -> str:
    statement = {"Effect": effect, "Action": "s3:ListAllMyBuckets", "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_a_role_policy_written_through_boto3_decides_the_next_request(aws: LocalAWS) -> None:
    iam = _client(aws, "iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/operator"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName="lister", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="lister", PolicyName="list", PolicyDocument=_policy("Allow"))
    creds = _client(aws, "sts").assume_role(
        RoleArn=role["Role"]["Arn"], RoleSessionName="lister-session"
    )
    c = creds["Credentials"]
    s3 = _client(
        aws, "s3", id=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"]
    )
    s3.list_buckets()
    iam.put_role_policy(RoleName="lister", PolicyName="list", PolicyDocument=_policy("Deny"))
    with pytest.raises(ClientError) as denied:
        s3.list_buckets()
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    iam.put_role_policy(RoleName="lister", PolicyName="list", PolicyDocument=_policy("Allow"))
    s3.list_buckets()


@pytest.mark.parametrize(
    ("principal", "account", "session_name"),
    [
        (f"arn:aws:sts::{ACCOUNT_A}:assumed-role/reporter/run-1", ACCOUNT_A, "run-1"),
        (USER, ACCOUNT_A, None),
        (f"arn:aws:iam::{ACCOUNT_A}:role/path/reporter", ACCOUNT_A, None),
        ("scheduler.amazonaws.com", None, None),
    ],
)
def test_the_audit_line_names_the_principal_s_account_and_session(
    tmp_path: Path, principal: str, account: str | None, session_name: str | None
) -> None:
    question = Question(principal, "s3:GetObject", "arn:aws:s3:::b/k", ACCOUNT_A, {})
    audit = tmp_path / "audit.jsonl"
    Decider(AuditLog(audit)).ask(question, via="test", request_id="r")
    (entry,) = _entries(audit)
    assert (entry["account"], entry["session_name"]) == (account, session_name)
