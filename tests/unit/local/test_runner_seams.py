"""The moto internals the Lambda runner, the scheduler and the demo's breakages read.

moto is pinned; these tests fail loudly, naming the attribute, if an upgrade moves them.
They run in-process (moto.mock_aws), so no server and no Terraform.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import moto
import pytest
from moto import mock_aws

from crosstrack.local.run import links, scheduler
from crosstrack.local.run.lambda_runner import read_function

ACCOUNT = "123456789012"  # moto's default account for mock_aws


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # A fixed timestamp: two calls a second apart must give the same bytes.
        entry = zipfile.ZipInfo("app.py", date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(entry, "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


@pytest.fixture
def deployed() -> Any:
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(
            RoleName="fn-role",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        iam.put_role_policy(
            RoleName="fn-role",
            PolicyName="p",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"},
                        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
                    ],
                }
            ),
        )
        lam = boto3.client("lambda", region_name="us-east-1")
        fn = lam.create_function(
            FunctionName="fn",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": _zip()},
            Timeout=30,
            MemorySize=256,
            Environment={"Variables": {"A": "1"}},
        )
        lam.put_function_event_invoke_config(
            FunctionName="fn",
            MaximumRetryAttempts=1,
            DestinationConfig={
                "OnFailure": {"Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:failures"}
            },
        )
        boto3.client("scheduler", region_name="us-east-1").create_schedule(
            Name="every-5",
            ScheduleExpression="rate(5 minutes)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": fn["FunctionArn"], "RoleArn": role, "Input": '{"k": "<aws.x>"}'},
        )
        yield fn, role


def test_moto_is_the_pinned_version() -> None:
    assert moto.__version__ == "5.2.5", "re-check crosstrack.local's moto seams before upgrading"


def test_runner_reads_configuration_and_code_from_the_backend(deployed: Any) -> None:
    fn, role = deployed
    config = read_function("fn", account=ACCOUNT)
    assert (config.name, config.arn, config.role) == ("fn", fn["FunctionArn"], role)
    assert (config.handler, config.timeout, config.memory_size) == ("app.handler", 30, 256)
    assert config.environment == {"A": "1"}
    assert config.code == _zip()
    assert config.max_retry_attempts == 1
    assert config.on_failure_destination == f"arn:aws:sqs:us-east-1:{ACCOUNT}:failures"


def test_runner_can_route_moto_invoke() -> None:
    from moto.awslambda.models import LambdaFunction

    assert callable(LambdaFunction.invoke)


def test_scheduler_discovers_the_lambda_schedule(deployed: Any) -> None:
    fn, role = deployed
    (target,) = scheduler.discover(ACCOUNT)
    assert (target.name, target.function_arn, target.role_arn) == (
        "every-5",
        fn["FunctionArn"],
        role,
    )
    assert target.interval.total_seconds() == 300
    assert target.input_template == '{"k": "<aws.x>"}'


def test_breakages_edit_and_restore_role_documents(deployed: Any) -> None:
    from moto.iam.models import iam_backends

    _fn, role = deployed
    stored = iam_backends[ACCOUNT]["global"].get_role("fn-role")
    trust, policies = stored.assume_role_policy_document, dict(stored.policies)
    restore = links._replace_trust(ACCOUNT, role, {"Service": "ec2.amazonaws.com"})
    assert "ec2.amazonaws.com" in stored.assume_role_policy_document
    restore()
    assert stored.assume_role_policy_document == trust

    restore = links._rewrite_role_policies(
        ACCOUNT, role, lambda s: "logs:PutLogEvents" not in str(s.get("Action"))
    )
    assert "logs:PutLogEvents" not in stored.policies["p"]
    assert "sts:AssumeRole" in stored.policies["p"]
    restore()
    assert dict(stored.policies) == policies
