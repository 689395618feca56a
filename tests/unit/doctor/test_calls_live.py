"""`doctor chain --profile`: every read-only call of docs/doctor.md's table, made through boto3
against moto, answers what the aws-cli command prints (the JSON a --policies file holds)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from crosstrack.doctor.calls import COMMANDS, Call, LiveSource
from crosstrack.doctor.reads import Unreadable

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"


def _doc(action: str, resource: str = "*", principal: Any = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if principal is not None:
        statement["Principal"] = principal
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """One of each thing the table reads, with a policy each; the names the calls need."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        iam = session.client("iam")
        trust = _doc("sts:AssumeRole", principal={"Service": "lambda.amazonaws.com"})
        role_arn = iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        policy_arn = iam.create_policy(PolicyName="managed", PolicyDocument=_doc("s3:List*"))[
            "Policy"
        ]["Arn"]
        iam.put_role_policy(RoleName="r", PolicyName="inline", PolicyDocument=_doc("s3:Get*"))
        iam.attach_role_policy(RoleName="r", PolicyArn=policy_arn)
        iam.create_user(UserName="u")
        iam.put_user_policy(UserName="u", PolicyName="uinline", PolicyDocument=_doc("s3:Put*"))
        iam.attach_user_policy(UserName="u", PolicyArn=policy_arn)

        s3 = session.client("s3")
        s3.create_bucket(Bucket="bkt")
        s3.put_bucket_policy(
            Bucket="bkt", Policy=_doc("s3:GetObject", "arn:aws:s3:::bkt/*", {"AWS": ACCOUNT})
        )
        s3.create_bucket(Bucket="bare-bucket")
        key_id = session.client("kms").create_key()["KeyMetadata"]["KeyId"]
        sqs = session.client("sqs")
        queue_url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.set_queue_attributes(
            QueueUrl=queue_url,
            Attributes={"Policy": _doc("sqs:SendMessage", principal={"AWS": ACCOUNT})},
        )
        sns = session.client("sns")
        topic_arn = sns.create_topic(Name="t")["TopicArn"]
        events = session.client("events")
        events.create_event_bus(Name="bus")
        events.put_permission(
            EventBusName="bus", Action="events:PutEvents", Principal=ACCOUNT, StatementId="s"
        )
        lam = session.client("lambda")
        lam.create_function(
            FunctionName="f",
            Runtime="python3.12",
            Role=role_arn,
            Handler="handler.handler",
            Code={"ZipFile": _zip()},
        )
        lam.add_permission(
            FunctionName="f",
            StatementId="invoke",
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
        )
        secret_arn = session.client("secretsmanager").create_secret(Name="s", SecretString="x")[
            "ARN"
        ]
        session.client("secretsmanager").put_resource_policy(
            SecretId=secret_arn, ResourcePolicy=_doc("secretsmanager:GetSecretValue")
        )
        yield {
            "policy_arn": policy_arn,
            "key_id": key_id,
            "topic_arn": topic_arn,
            "secret_arn": secret_arn,
        }


def _fetch(command: str, *args: str, names: tuple[str, ...] | None = None) -> dict[str, Any]:
    source = LiveSource({ACCOUNT: boto3.Session(region_name=REGION)}, REGION)
    answer = source.fetch(Call(ACCOUNT, command, names or args, args))
    assert "ResponseMetadata" not in answer.data
    return dict(answer.data)


def _statement_actions(policy: Any) -> list[Any]:
    document = json.loads(policy) if isinstance(policy, str) else policy
    return [s["Action"] for s in document["Statement"]]


@pytest.mark.parametrize("kind", ["role", "user"])
def test_identity_policies_of_a_role_or_a_user(world: dict[str, str], kind: str) -> None:
    name, inline, action = (
        ("r", "inline", "s3:Get*") if kind == "role" else ("u", "uinline", "s3:Put*")
    )
    got = _fetch(f"get-{kind}", name)
    assert got[kind.capitalize()][f"{kind.capitalize()}Name"] == name
    assert _fetch(f"list-{kind}-policies", name) == {"PolicyNames": [inline]}
    inline_doc = _fetch(f"get-{kind}-policy", name, inline)
    assert _statement_actions(inline_doc["PolicyDocument"]) == [action]
    attached = _fetch(f"list-attached-{kind}-policies", name)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [world["policy_arn"]]


def test_managed_policy_and_its_version(world: dict[str, str]) -> None:
    arn = world["policy_arn"]
    version = _fetch("get-policy", arn, names=("managed",))["Policy"]["DefaultVersionId"]
    document = _fetch("get-policy-version", arn, version, names=("managed", version))
    assert _statement_actions(document["PolicyVersion"]["Document"]) == ["s3:List*"]


def test_resource_policies(world: dict[str, str]) -> None:
    assert _statement_actions(_fetch("get-bucket-policy", "bkt")["Policy"]) == ["s3:GetObject"]
    key_policy = _fetch("get-key-policy", world["key_id"])["Policy"]
    assert "kms:*" in _statement_actions(key_policy)
    queue = _fetch("get-queue-attributes", "q")["Attributes"]["Policy"]
    assert _statement_actions(queue) == ["sqs:SendMessage"]
    topic = _fetch("get-topic-attributes", world["topic_arn"], names=("t",))
    assert "Policy" in topic["Attributes"]
    bus = _fetch("describe-event-bus", "bus")
    assert _statement_actions(bus["Policy"]) == ["events:PutEvents"]
    function = _fetch("lambda.get-policy", "f")
    assert _statement_actions(function["Policy"]) == ["lambda:InvokeFunction"]
    secret = _fetch("secretsmanager.get-resource-policy", world["secret_arn"], names=("s",))
    assert _statement_actions(secret["ResourcePolicy"]) == ["secretsmanager:GetSecretValue"]


def test_every_command_of_the_table_is_exercised() -> None:
    # The tests above call each of these; a command added to the table needs a case here.
    covered = {
        "get-role", "list-role-policies", "get-role-policy", "list-attached-role-policies",
        "get-user", "list-user-policies", "get-user-policy", "list-attached-user-policies",
        "get-policy", "get-policy-version", "get-bucket-policy", "get-key-policy",
        "get-queue-attributes", "get-topic-attributes", "describe-event-bus",
        "lambda.get-policy", "secretsmanager.get-resource-policy", "dynamodb.get-resource-policy",
    }  # fmt: skip
    assert covered == set(COMMANDS)


def test_dynamodb_table_policy(world: dict[str, str]) -> None:
    ddb = boto3.Session(region_name=REGION).client("dynamodb")
    arn = ddb.create_table(
        TableName="tbl",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    ddb.put_resource_policy(ResourceArn=arn, Policy=_doc("dynamodb:GetItem", arn, {"AWS": ACCOUNT}))
    got = _fetch("dynamodb.get-resource-policy", arn, names=("tbl",))
    assert _statement_actions(got["Policy"]) == ["dynamodb:GetItem"]


def test_no_policy_is_an_empty_answer_and_a_missing_role_is_unreadable(
    world: dict[str, str],
) -> None:
    assert _fetch("get-bucket-policy", "bare-bucket") == {}
    with pytest.raises(Unreadable, match=r"does not exist: nobody \(NoSuchEntity"):
        _fetch("get-role", "nobody")
