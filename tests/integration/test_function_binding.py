"""Role B is reachable from the reporter function only (issue 11, item 2).

Role A's ``sts:AssumeRole`` on role B requires ``lambda:SourceFunctionArn`` = the reporter's
ARN. In the local AWS, as in AWS, only the credentials Lambda issues to a function carry
that key (crosstrack.local.auth.function_sessions); this checks, against the enforced endpoint,
that the reporter's session reaches role B while a second function given role A, a session
of role A obtained as Lambda without a function, and the operator assuming role A are all
refused at link 2 with STS's message. The chain table names link 2 as the broken one.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from crosstrack.local import ACCOUNT_A, ACCOUNT_B, LocalAWS
from crosstrack.local.run import links
from crosstrack.local.run.lambda_runner import function_credentials, read_function

REPORTER = "write-report-to-crossaccount-s3"
OTHER = "another-function"
ROLE_A = f"arn:aws:iam::{ACCOUNT_A}:role/connect-to-bridge"
ROLE_B = f"arn:aws:iam::{ACCOUNT_B}:role/access-s3-bucket"


def _arn(function: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT_A}:function:{function}"


def _client(aws: LocalAWS, service: str, **creds: str) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=aws.endpoint,
        verify=str(aws.ca_bundle),
        config=Config(retries={"total_max_attempts": 1}),
        **creds,
    )


def _keys(creds: Any) -> dict[str, str]:
    if isinstance(creds, dict):
        return {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
    return {
        "aws_access_key_id": creds.access_key_id,
        "aws_secret_access_key": creds.secret_access_key,
        "aws_session_token": creds.session_token,
    }


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAWS]:
    local = LocalAWS(Path(tmp_path_factory.mktemp("binding"))).start()
    operator = {
        "aws_access_key_id": local.operator.access_key_id,
        "aws_secret_access_key": local.operator.secret_access_key,
    }
    try:
        iam_a = _client(local, "iam", **operator)
        trust_a = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_A}},
                },
                # Lets the test assume role A "any other way" too.
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": local.operator_arn},
                    "Action": "sts:AssumeRole",
                },
            ],
        }
        iam_a.create_role(
            RoleName="connect-to-bridge", AssumeRolePolicyDocument=json.dumps(trust_a)
        )
        # infra/modules/source-account's statement, as Terraform renders it.
        iam_a.put_role_policy(
            RoleName="connect-to-bridge",
            PolicyName="assume-target-role-and-log",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AssumeOnlyRoleBOnlyFromTheReporterFunction",
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Resource": ROLE_B,
                            "Condition": {
                                "ArnEquals": {"lambda:SourceFunctionArn": _arn(REPORTER)}
                            },
                        }
                    ],
                }
            ),
        )
        lam = _client(local, "lambda", **operator)
        for name in (REPORTER, OTHER):
            lam.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=ROLE_A,
                Handler="handler.handler",
                Code={"ZipFile": _zip()},
            )
        terraform_b = _keys(
            _client(local, "sts", **operator).assume_role(
                RoleArn=local.terraform_role_arn, RoleSessionName="setup"
            )["Credentials"]
        )
        trust_b = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": ROLE_A}, "Action": "sts:AssumeRole"}
            ],
        }
        _client(local, "iam", **terraform_b).create_role(
            RoleName="access-s3-bucket",
            AssumeRolePolicyDocument=json.dumps(trust_b),
            # The only boundary the deploy role may create role B with (infra/bootstrap/).
            PermissionsBoundary=f"arn:aws:iam::{ACCOUNT_B}:policy/crosstrack-target-role-boundary",
        )
        yield local
    finally:
        local.stop()


def _assume_b(aws: LocalAWS, creds: dict[str, str]) -> dict[str, Any]:
    answer: dict[str, Any] = _client(aws, "sts", **creds).assume_role(
        RoleArn=ROLE_B, RoleSessionName="crosstrack-test"
    )
    return answer


def _refused(aws: LocalAWS, creds: dict[str, str], session_arn: str) -> None:
    with pytest.raises(ClientError) as err:
        _assume_b(aws, creds)
    error = err.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f"User: {session_arn} is not authorized to perform: sts:AssumeRole on resource: {ROLE_B}"
    )


def _link_2(aws: LocalAWS, function: str) -> links.ChainRow:
    audit = [json.loads(x) for x in aws.audit_log.read_text().splitlines() if x.strip()]
    dep = links.Deployment(
        function_name=function,
        function_arn=_arn(function),
        role_a_arn=ROLE_A,
        role_b_arn=ROLE_B,
        schedule_role_arn="",
        bucket="iss-reporting-none",
    )
    return next(r for r in links.chain_rows(audit, dep) if r.number == "2")


def test_the_reporters_session_reaches_role_b(aws: LocalAWS) -> None:
    creds = function_credentials(aws, read_function(REPORTER, account=ACCOUNT_A))
    assumed = _assume_b(aws, _keys(creds))
    assert assumed["AssumedRoleUser"]["Arn"].startswith(
        f"arn:aws:sts::{ACCOUNT_B}:assumed-role/access-s3-bucket/"
    )
    row = _link_2(aws, REPORTER)
    assert row.ok, row
    assert "AssumeOnlyRoleBOnlyFromTheReporterFunction" in row.statement


def test_a_second_function_given_role_a_is_refused_at_link_2(aws: LocalAWS) -> None:
    creds = function_credentials(aws, read_function(OTHER, account=ACCOUNT_A))
    _refused(aws, _keys(creds), f"arn:aws:sts::{ACCOUNT_A}:assumed-role/connect-to-bridge/{OTHER}")
    row = _link_2(aws, OTHER)
    assert row.entry is not None
    assert not row.ok
    assert row.entry["decision"] == "implicitDeny"


def test_role_a_obtained_as_lambda_but_for_no_function_is_refused(aws: LocalAWS) -> None:
    # The trust allows the Lambda service; without a function the session has no
    # lambda:SourceFunctionArn, whatever source ARN the service named.
    creds = aws.services.assume_role(
        "lambda.amazonaws.com",
        ROLE_A,
        source_account=ACCOUNT_A,
        source_arn=_arn(REPORTER),
        session_name=REPORTER,
    )
    _refused(
        aws, _keys(creds), f"arn:aws:sts::{ACCOUNT_A}:assumed-role/connect-to-bridge/{REPORTER}"
    )


def test_role_a_assumed_by_the_operator_is_refused(aws: LocalAWS) -> None:
    operator = {
        "aws_access_key_id": aws.operator.access_key_id,
        "aws_secret_access_key": aws.operator.secret_access_key,
    }
    role_a = _client(aws, "sts", **operator).assume_role(RoleArn=ROLE_A, RoleSessionName=REPORTER)
    _refused(
        aws,
        _keys(role_a["Credentials"]),
        f"arn:aws:sts::{ACCOUNT_A}:assumed-role/connect-to-bridge/{REPORTER}",
    )
