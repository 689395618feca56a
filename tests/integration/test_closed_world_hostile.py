"""Hostile request shapes from a valid low-privilege key: none may do what AWS would refuse,
and none may crash the local AWS (a 500 or a traceback).

moto picks a query or json operation from a parameter named ``Action`` wherever it finds one
(the form body, the URL query, a body that merely parses as a query string, even a header),
while the local AWS classified the request from its own selector: every shape below made
moto run an operation other than the one authorized, until the gateway refused them.
"""

from __future__ import annotations

import gzip
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import botocore.auth
import botocore.session
import pytest
import urllib3
from botocore.awsrequest import AWSRequest
from tests.local_helpers import BUCKET, KEY, ORIGINAL, World, closed_world

from crosstrack.local import LocalAWS

READER = "reader"
_JSON = {"Content-Type": "application/x-amz-json-1.1"}
_FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with LocalAWS(tmp_path_factory.mktemp("hostile")) as aws:
        world = closed_world(aws)
        world.add_user(
            READER,
            {
                "Effect": "Allow",
                "Action": [
                    "iam:GetUser",
                    "iam:ListUsers",
                    "kms:ListKeys",
                    "logs:DescribeLogGroups",
                    "scheduler:GetSchedule",
                    "scheduler:DeleteSchedule",
                    "sqs:ListQueues",
                ],
                "Resource": "*",
            },
        )
        yield world


def _send(
    world: World,
    service: str,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> urllib3.BaseHTTPResponse:
    request = AWSRequest(
        method=method, url=f"{world.aws.endpoint}{path}", data=body, headers=headers or {}
    )
    botocore.auth.SigV4Auth(world.keys[READER], service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    pool = urllib3.PoolManager(ca_certs=str(world.aws.ca_bundle))
    return pool.request(
        method, prepared.url, body=body, headers=dict(prepared.headers), retries=False
    )


def _users(world: World) -> list[str]:
    users = world.client("operator", "iam").list_users()["Users"]
    return sorted(str(u["UserName"]) for u in users)


@pytest.mark.parametrize(
    ("label", "path", "body", "headers"),
    [
        # moto reads the first of two Actions, a dict the last.
        ("two actions", "/", b"Action=CreateUser&Action=GetUser", _FORM),
        # The same, the first key percent-encoded.
        ("encoded key", "/", b"Act%69on=CreateUser&Action=GetUser", _FORM),
        # A multipart body is a form to moto, and a form replaces the URL query.
        (
            "multipart form",
            "/?Action=ListUsers",
            b'--x\r\nContent-Disposition: form-data; name="Action"\r\n\r\nCreateUser\r\n--x--\r\n',
            {"Content-Type": "multipart/form-data; boundary=x"},
        ),
    ],
)
def test_a_query_request_runs_only_the_action_it_was_authorized_as(
    world: World, label: str, path: str, body: bytes, headers: dict[str, str]
) -> None:
    name = "evil" + label.replace(" ", "")
    before = _users(world)
    response = _send(
        world, "iam", "POST", path, body + f"&UserName={name}&Version=2010-05-08".encode(), headers
    )
    assert response.status == 400, response.data
    assert b"<Code>InvalidAction</Code>" in response.data
    assert _users(world) == before


def test_a_repeated_query_parameter_is_refused(world: World) -> None:
    # Which UserName is the resource? moto takes the first, the authorization the last.
    response = _send(
        world,
        "iam",
        "POST",
        "/",
        b"Action=GetUser&UserName=operator&UserName=reader&Version=2010-05-08",
        _FORM,
    )
    assert (response.status, b"<Code>InvalidAction</Code>" in response.data) == (400, True)


@pytest.mark.parametrize(
    ("label", "service", "target", "path", "body", "headers"),
    [
        ("action in the query", "kms", "TrentService.ListKeys", "/?Action=CreateKey", b"{}", {}),
        (
            "action inside a json string",
            "kms",
            "TrentService.ListKeys",
            "/",
            b'{"Marker":"&Action=CreateKey&"}',
            {},
        ),
        ("action header", "kms", "TrentService.ListKeys", "/", b"", {"Action": "CreateKey"}),
        (
            "form body",
            "kms",
            "TrentService.ListKeys",
            "/",
            b"Action=CreateKey",
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
        (
            "sqs json with a query action",
            "sqs",
            "AmazonSQS.ListQueues",
            "/?Action=CreateQueue&QueueName=evil",
            b"{}",
            {"Content-Type": "application/x-amz-json-1.0"},
        ),
    ],
)
def test_a_json_request_runs_only_its_target(
    world: World,
    label: str,
    service: str,
    target: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
) -> None:
    kms = world.client("operator", "kms")
    keys = len(kms.list_keys()["Keys"])
    response = _send(
        world, service, "POST", path, body, {**_JSON, "X-Amz-Target": target, **headers}
    )
    assert (response.status, response.json()["__type"]) == (400, "UnknownOperationException")
    assert len(kms.list_keys()["Keys"]) == keys
    assert world.client("operator", "sqs").list_queues().get("QueueUrls") is None


def test_a_json_string_cannot_create_a_log_group(world: World) -> None:
    body = b'{"logGroupNamePrefix":"&Action=CreateLogGroup&logGroupName=evil&"}'
    headers = {**_JSON, "X-Amz-Target": "Logs_20140328.DescribeLogGroups"}
    response = _send(world, "logs", "POST", "/", body, headers)
    assert (response.status, response.json()["__type"]) == (400, "UnknownOperationException")
    assert world.client("operator", "logs").describe_log_groups()["logGroups"] == []


def test_an_action_header_cannot_turn_a_rest_read_into_a_delete(world: World) -> None:
    scheduler = world.client("operator", "scheduler")
    scheduler.create_schedule(
        Name="kept",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": "arn:aws:sqs:us-east-1:111111111111:q",
            "RoleArn": "arn:aws:iam::111111111111:role/r",
        },
    )
    response = _send(
        world, "scheduler", "GET", "/schedules/kept", headers={"Action": "DeleteSchedule"}
    )
    # The local AWS's "not supported" answer for rest-json services (docs/local-aws.md).
    assert (response.status, response.json()["__type"]) == (404, "UnknownOperationException")
    assert [s["Name"] for s in scheduler.list_schedules()["Schedules"]] == ["kept"]


def test_a_deeply_nested_json_body_is_refused_not_a_crash(world: World) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    headers = {**_JSON, "X-Amz-Target": "Logs_20140328.DescribeLogGroups"}
    response = _send(world, "logs", "POST", "/", body, headers)
    assert response.status == 400, response.data


def _raw(world: World, data: bytes) -> bytes:
    host, port = world.aws.endpoint.split("//")[1].split(":")
    context = ssl.create_default_context(cafile=str(world.aws.ca_bundle))
    with (
        socket.create_connection((host, int(port)), timeout=10) as plain,
        context.wrap_socket(plain, server_hostname=host) as tls,
    ):
        tls.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received and (chunk := tls.recv(65536)):
            received += chunk
        return received  # the status line and headers are all the tests read


@pytest.mark.parametrize("size", [b"zz", b"ffffffffffffffffffff"])
def test_a_bad_chunk_size_is_a_400_not_a_crash(world: World, size: bytes) -> None:
    request = AWSRequest(
        method="PUT",
        url=f"{world.aws.endpoint}/{BUCKET}/{KEY}",
        headers={"Transfer-Encoding": "chunked", "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
    )

    class Unsigned(botocore.auth.S3SigV4Auth):
        def payload(self, request: Any) -> str:
            return "UNSIGNED-PAYLOAD"

    Unsigned(world.keys["operator"], "s3", "us-east-1").add_auth(request)
    host = world.aws.endpoint.split("//")[1]
    head = [f"PUT /{BUCKET}/{KEY} HTTP/1.1", f"Host: {host}"] + [
        f"{k}: {v}"
        for k, v in request.headers.items()
        if k.lower() not in ("content-length", "host")
    ]
    received = _raw(
        world, "\r\n".join(head).encode() + b"\r\n\r\n" + size + b"\r\nBBBB\r\n0\r\n\r\n"
    )
    assert received.split(b"\r\n", 1)[0].split(b" ")[1] == b"400", received[:300]
    assert world.object() == ORIGINAL


def test_a_repeated_s3_query_parameter_cannot_widen_a_prefix_condition(world: World) -> None:
    # moto lists the first prefix, the condition saw the last: refused, as ambiguous.
    world.client("operator", "s3").put_object(Bucket=BUCKET, Key="home/bob/secret.txt", Body=b"b")
    world.add_user(
        "alice",
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringEquals": {"s3:prefix": "home/alice/"}},
        },
    )
    alice = "prefix=home%2Falice%2F"
    assert world.send("alice", "GET", f"/{BUCKET}?list-type=2&{alice}").status == 200
    bob_then_alice = f"/{BUCKET}?list-type=2&prefix=home%2Fbob%2F&{alice}"
    response = world.send("alice", "GET", bob_then_alice)
    assert (response.status, b"home/bob/secret.txt" in response.data) == (501, False)
    assert b"<Code>NotImplemented</Code>" in response.data


@pytest.mark.parametrize(
    ("service", "path", "plain", "headers"),
    [
        ("iam", "/?Action=GetUser&Version=2010-05-08", b"Action=CreateUser&UserName=gz", _FORM),
        ("kms", "/", b"Action=CreateKey", {**_JSON, "X-Amz-Target": "TrentService.ListKeys"}),
    ],
)
def test_a_gzip_body_cannot_name_another_action(
    world: World, service: str, path: str, plain: bytes, headers: dict[str, str]
) -> None:
    # moto gunzips the body before it looks for Action; the classification saw gzip bytes.
    kms = world.client("operator", "kms")
    keys, users = len(kms.list_keys()["Keys"]), _users(world)
    body = gzip.compress(plain)
    response = _send(world, service, "POST", path, body, {**headers, "Content-Encoding": "gzip"})
    assert response.status == 400, response.data
    assert b"InvalidAction" in response.data or b"UnknownOperationException" in response.data
    assert (len(kms.list_keys()["Keys"]), _users(world)) == (keys, users)


@pytest.mark.parametrize(
    ("method", "body", "headers"),
    [
        ("GET", b'{"groupName": "secret"}', {"Content-Type": "application/json"}),
        ("DELETE", b"groupName=secret", {"Content-Type": "text/plain"}),
    ],
)
def test_a_rest_json_query_member_in_the_body_is_refused(
    world: World, method: str, body: bytes, headers: dict[str, str]
) -> None:
    # GetSchedule's groupName is a query member; moto also finds it in the body.
    scheduler = world.client("operator", "scheduler")
    if "secret" not in [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]]:
        scheduler.create_schedule_group(Name="secret")
        scheduler.create_schedule(
            Name="kept",
            GroupName="secret",
            ScheduleExpression="rate(1 hour)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": "arn:aws:sqs:us-east-1:111111111111:q",
                "RoleArn": "arn:aws:iam::111111111111:role/r",
                "Input": "secret input",
            },
        )
    response = _send(world, "scheduler", method, "/schedules/kept", body, headers)
    assert (response.status, response.json()["__type"]) == (404, "UnknownOperationException")
    assert b"secret input" not in response.data
    assert scheduler.get_schedule(Name="kept", GroupName="secret")["Name"] == "kept"
