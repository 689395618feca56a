"""The probe table: requests against the local AWS, each answered as AWS would answer it.

Everything is set up through the enforced endpoint itself (the operator in A, B's terraform
role in B), then each probe runs as a real boto3 client over HTTPS (or plain HTTP where the
probe is about aws:SecureTransport). Every probe also checks the audit line(s) it left.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.local_helpers import moto_role

from crosstrack.local import ACCOUNT_A, ACCOUNT_B, LocalAWS, LocalAWSError

ROLE_A = f"arn:aws:iam::{ACCOUNT_A}:role/connect-to-bridge"
ROLE_A_NO_POLICY = f"arn:aws:iam::{ACCOUNT_A}:role/bridge-without-permission"
LAMBDA_ONLY = f"arn:aws:iam::{ACCOUNT_A}:role/lambda-only"
ROLE_B = f"arn:aws:iam::{ACCOUNT_B}:role/access-s3-bucket"
ROLE_B_EXTERNAL = f"arn:aws:iam::{ACCOUNT_B}:role/access-s3-bucket-external"
ROLE_B_OTHER = f"arn:aws:iam::{ACCOUNT_B}:role/access-s3-bucket-other"
MISSING_ROLE = f"arn:aws:iam::{ACCOUNT_B}:role/does-not-exist"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT_A}:function:write-report-to-crossaccount-s3"
PRIVATE = "iss-reporting-private"
SHARED = "iss-reporting-shared"
KEY = "iss_position.txt"
EXTERNAL_ID = "crosstrack-probe"
OPERATOR = f"arn:aws:iam::{ACCOUNT_A}:user/operator"
NOT_AUTHORIZED = f"User: {OPERATOR} is not authorized to perform:"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _trust(principal: dict[str, Any], condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return _doc(statement)


def _tls_only(bucket: str, *grants: dict[str, Any]) -> str:
    return _doc(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        *grants,
    )


@dataclass
class World:
    aws: LocalAWS
    keys: dict[str, tuple[str, str, str | None]]
    _botocore: Any = None

    def client(self, who: str, service: str, *, plain_http: bool = False) -> Any:
        key, secret, token = self.keys[who]
        # One botocore session: its loaded service models make every further client cheap.
        if self._botocore is None:
            self._botocore = botocore.session.get_session()
        return self._botocore.create_client(
            service,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            endpoint_url=self.aws.http_endpoint if plain_http else self.aws.endpoint,
            verify=str(self.aws.ca_bundle),
            config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
        )

    def raw(self, key: str, secret: str, service: str) -> Any:
        if self._botocore is None:
            self._botocore = botocore.session.get_session()
        return self._botocore.create_client(
            service,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            endpoint_url=self.aws.endpoint,
            verify=str(self.aws.ca_bundle),
            config=Config(retries={"total_max_attempts": 1}),
        )

    def role_a_session(self, role_arn: str = ROLE_A) -> tuple[str, str, str]:
        creds = self.aws.services.assume_role(
            "lambda.amazonaws.com", role_arn, source_account=ACCOUNT_A, source_arn=FUNCTION_ARN
        )
        return creds.access_key_id, creds.secret_access_key, creds.session_token

    def assume_from(self, role_a_arn: str, role_arn: str) -> tuple[str, str, str]:
        """As the Lambda would: a service session for ``role_a_arn``, then AssumeRole."""
        self.keys["probe-source"] = self.role_a_session(role_a_arn)
        return self.assume("probe-source", role_arn)

    def assume(self, who: str, role_arn: str, **kwargs: Any) -> tuple[str, str, str]:
        creds = self.client(who, "sts").assume_role(
            RoleArn=role_arn, RoleSessionName="probe", **kwargs
        )["Credentials"]
        return creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]


def _setup_account_a(world: World) -> None:
    iam = world.client("operator", "iam")
    lambda_trust = _trust(
        {"Service": "lambda.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": ACCOUNT_A}}
    )
    for name in ("connect-to-bridge", "bridge-without-permission", "lambda-only"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=lambda_trust)
    iam.put_role_policy(
        RoleName="connect-to-bridge",
        PolicyName="assume-role-b",
        PolicyDocument=_doc(
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:aws:iam::{ACCOUNT_B}:role/access-s3-bucket*",
            }
        ),
    )
    for user in ("reader", "stranger"):
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        world.keys[user] = (key["AccessKeyId"], key["SecretAccessKey"], None)
    iam.put_user_policy(
        UserName="reader",
        PolicyName="read-log-objects",
        PolicyDocument=_doc(
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::iss-reporting-*/*",
            }
        ),
    )


def _setup_account_b(world: World) -> None:
    world.keys["terraform"] = (*world.assume("operator", world.aws.terraform_role_arn),)
    iam = world.client("terraform", "iam")
    s3 = world.client("terraform", "s3")
    iam.create_role(
        RoleName="access-s3-bucket",
        AssumeRolePolicyDocument=_trust({"AWS": [ROLE_A, ROLE_A_NO_POLICY]}),
        # The only boundary the deploy role may create role B with (infra/bootstrap/).
        PermissionsBoundary=f"arn:aws:iam::{ACCOUNT_B}:policy/crosstrack-target-role-boundary",
    )
    # The deploy role may create role B only (infra/bootstrap/): B's administrator makes
    # the probes' two other roles, straight into the emulator's state.
    for name, trust in (
        (
            "access-s3-bucket-external",
            _trust({"AWS": ROLE_A}, {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}),
        ),
        ("access-s3-bucket-other", _trust({"AWS": OPERATOR})),
    ):
        moto_role(name, trust, account=ACCOUNT_B)
    iam.put_role_policy(
        RoleName="access-s3-bucket",
        PolicyName="log-object",
        PolicyDocument=_doc(
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::iss-reporting-*/*",
            },
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{PRIVATE}"},
        ),
    )
    for bucket in (PRIVATE, SHARED):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=PRIVATE, Policy=_tls_only(PRIVATE))
    grant = {
        "Sid": "AccountAUsersMayRead",
        "Effect": "Allow",
        "Principal": {
            "AWS": [
                f"arn:aws:iam::{ACCOUNT_A}:user/reader",
                f"arn:aws:iam::{ACCOUNT_A}:user/stranger",
            ]
        },
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{SHARED}/*",
    }
    s3.put_bucket_policy(Bucket=SHARED, Policy=_tls_only(SHARED, grant))
    # Seed the objects as role B, the way the reporter writes them.
    world.keys["role-a"] = world.role_a_session()
    world.keys["role-b"] = world.assume("role-a", ROLE_B)
    s3_b = world.client("role-b", "s3")
    s3_b.put_object(Bucket=PRIVATE, Key=KEY, Body=b"ISS Location Logs\n")
    s3_b.put_object(Bucket=SHARED, Key="seed.txt", Body=b"shared\n")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with LocalAWS(tmp_path_factory.mktemp("local-aws")) as aws:
        world = World(
            aws, {"operator": (aws.operator.access_key_id, aws.operator.secret_access_key, None)}
        )
        _setup_account_a(world)
        _setup_account_b(world)
        yield world


def _audit(aws: LocalAWS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(aws.audit_log).read_text().splitlines()]


@dataclass(frozen=True)
class Probe:
    name: str
    run: Callable[[World], Any]
    error: str | None  # None: must succeed; else the AWS error code
    audit_action: str
    decision: str  # allowed | explicitDeny | implicitDeny | rejected
    decided_by: str | None = None
    sid: str | None = None
    message: str | None = None
    status: int | None = None


def _get(
    who: str, bucket: str, key: str = KEY, *, plain_http: bool = False
) -> Callable[[World], Any]:
    return lambda w: w.client(who, "s3", plain_http=plain_http).get_object(Bucket=bucket, Key=key)


PROBES = [
    Probe(
        "operator assumes the terraform role",
        lambda w: w.assume("operator", w.aws.terraform_role_arn),
        None,
        "sts:AssumeRole",
        "allowed",
        sid="OperatorMayDeployIntoThisAccount",
    ),
    Probe(
        "operator assumes a role that trusts only lambda.amazonaws.com",
        lambda w: w.assume("operator", LAMBDA_ONLY),
        "AccessDenied",
        "sts:AssumeRole",
        "implicitDeny",
        decided_by="resource_policy",
        message=f"{NOT_AUTHORIZED} sts:AssumeRole on resource: {LAMBDA_ONLY}",
        status=403,
    ),
    Probe(
        "the Lambda service assumes that role",
        lambda w: w.role_a_session(LAMBDA_ONLY),
        None,
        "sts:AssumeRole",
        "allowed",
        decided_by="resource_policy",
    ),
    Probe(
        "role A session assumes role B (trusted, allowed by A's policy)",
        lambda w: w.assume("role-a", ROLE_B),
        None,
        "sts:AssumeRole",
        "allowed",
    ),
    Probe(
        "role A session assumes a B role whose trust does not name role A",
        lambda w: w.assume("role-a", ROLE_B_OTHER),
        "AccessDenied",
        "sts:AssumeRole",
        "implicitDeny",
        decided_by="resource_policy",
        status=403,
    ),
    Probe(
        "a role-A session whose identity policy does not allow AssumeRole",
        lambda w: w.assume_from(ROLE_A_NO_POLICY, ROLE_B),
        "AccessDenied",
        "sts:AssumeRole",
        "implicitDeny",
        decided_by="identity",
        status=403,
    ),
    Probe(
        "ExternalId condition, no ExternalId given",
        lambda w: w.assume("role-a", ROLE_B_EXTERNAL),
        "AccessDenied",
        "sts:AssumeRole",
        "implicitDeny",
        decided_by="resource_policy",
    ),
    Probe(
        "ExternalId condition, the right ExternalId",
        lambda w: w.assume("role-a", ROLE_B_EXTERNAL, ExternalId=EXTERNAL_ID),
        None,
        "sts:AssumeRole",
        "allowed",
    ),
    Probe(
        "a role that does not exist",
        lambda w: w.assume("operator", MISSING_ROLE),
        "AccessDenied",
        "sts:AssumeRole",
        "implicitDeny",
        message=f"{NOT_AUTHORIZED} sts:AssumeRole on resource: {MISSING_ROLE}",
    ),
    Probe("role B reads its object", _get("role-b", PRIVATE), None, "s3:GetObject", "allowed"),
    Probe(
        "role B deletes its object",
        lambda w: w.client("role-b", "s3").delete_object(Bucket=PRIVATE, Key=KEY),
        "AccessDenied",
        "s3:DeleteObject",
        "implicitDeny",
        decided_by="identity",
        message=(
            "User: arn:aws:sts::222222222222:assumed-role/access-s3-bucket/probe is not "
            "authorized to perform: s3:DeleteObject on resource: "
            f'"arn:aws:s3:::{PRIVATE}/{KEY}" because no identity-based policy allows '
            "the s3:DeleteObject action"
        ),
        status=403,
    ),
    Probe(
        "an account-A identity reads B's bucket without a bucket grant",
        _get("reader", PRIVATE),
        "AccessDenied",
        "s3:GetObject",
        "implicitDeny",
        decided_by="resource_policy",
    ),
    Probe(
        "with a bucket grant and an identity allow",
        _get("reader", SHARED, "seed.txt"),
        None,
        "s3:GetObject",
        "allowed",
        sid="AccountAUsersMayRead",
    ),
    Probe(
        "with a bucket grant but no identity allow",
        _get("stranger", SHARED, "seed.txt"),
        "AccessDenied",
        "s3:GetObject",
        "implicitDeny",
        decided_by="identity",
    ),
    Probe(
        "TLS-only bucket over HTTPS",
        _get("role-b", PRIVATE),
        None,
        "s3:GetObject",
        "allowed",
    ),
    Probe(
        "TLS-only bucket over plain HTTP",
        _get("role-b", PRIVATE, plain_http=True),
        "AccessDenied",
        "s3:GetObject",
        "explicitDeny",
        decided_by="resource_policy",
        sid="DenyInsecureTransport",
        status=403,
    ),
    Probe(
        "missing key with s3:ListBucket",
        _get("role-b", PRIVATE, "no-such-key.txt"),
        "NoSuchKey",
        "s3:ListBucket",
        "allowed",
        status=404,
    ),
    Probe(
        "missing key without s3:ListBucket",
        _get("reader", SHARED, "no-such-key.txt"),
        "AccessDenied",
        "s3:ListBucket",
        "implicitDeny",
        status=403,
    ),
    Probe(
        "a chained session asking for 2 hours",
        lambda w: w.assume("role-a", ROLE_B, DurationSeconds=7200),
        "ValidationError",
        "sts:AssumeRole",
        "rejected",
        message=(
            "The requested DurationSeconds exceeds the 1 hour session limit "
            "for roles assumed by role chaining."
        ),
    ),
    Probe(
        "the operator's key with a wrong secret",
        lambda w: w.raw(
            w.aws.operator.access_key_id, "not-the-secret", "sts"
        ).get_caller_identity(),
        "SignatureDoesNotMatch",
        "",
        "rejected",
        status=403,
    ),
    Probe(
        "an unknown access key",
        lambda w: w.raw("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG", "s3").list_buckets(),
        "InvalidAccessKeyId",
        "",
        "rejected",
        status=403,
    ),
]


def _entry_for(probe: Probe, entries: list[dict[str, Any]]) -> dict[str, Any]:
    if probe.decision == "rejected":
        found = [e for e in entries if e["decision"] == "rejected"]
        if probe.audit_action:
            found = [e for e in found if e.get("action") == probe.audit_action]
    else:
        found = [e for e in entries if e.get("action") == probe.audit_action]
    assert found, f"no audit line for {probe.audit_action or 'the rejection'} in {entries}"
    return found[-1]


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
def test_probe_is_answered_as_aws_would(world: World, probe: Probe) -> None:
    before = len(_audit(world.aws))
    if probe.error is None:
        probe.run(world)
    else:
        with pytest.raises(ClientError) as caught:
            probe.run(world)
        response = caught.value.response
        assert response["Error"]["Code"] == probe.error, response
        if probe.message:
            assert response["Error"]["Message"] == probe.message
        if probe.status:
            assert response["ResponseMetadata"]["HTTPStatusCode"] == probe.status

    entry = _entry_for(probe, _audit(world.aws)[before:])
    assert entry["decision"] == probe.decision, entry
    if probe.decided_by:
        assert entry["decided_by"] == probe.decided_by, entry
    if probe.sid:
        sids = {m.get("sid") for m in entry["matched"]} | {entry.get("sid")}
        assert probe.sid in sids, entry
    if probe.decision != "rejected":
        assert entry["time"].endswith("Z")
        assert entry["principal"]
        assert entry["resource"]
        if probe.decision == "explicitDeny":
            assert (entry["policy"], entry["sid"]) == (
                f"bucket policy of {PRIVATE}",
                "DenyInsecureTransport",
            )


def test_audit_names_the_session_and_the_deciding_statement(world: World) -> None:
    before = len(_audit(world.aws))
    world.client("role-b", "s3").get_object(Bucket=PRIVATE, Key=KEY)
    (entry,) = [e for e in _audit(world.aws)[before:] if e["action"] == "s3:GetObject"]
    assert entry["principal"] == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/access-s3-bucket/probe"
    assert entry["principal_arn"] == ROLE_B
    assert entry["session_name"] == "probe"
    assert entry["resource"] == f"arn:aws:s3:::{PRIVATE}/{KEY}"
    assert entry["decided_by"] == "identity"
    assert entry["policy"] == "log-object (inline policy of role access-s3-bucket)"
    assert entry["statement"] == 0
    assert entry["aws:SecureTransport"] == "true"


def test_a_session_policy_limits_every_request_of_its_session(world: World) -> None:
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session:
    # the session may do only what both the role's policies and the session policy allow.
    only_put = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
    }
    world.keys["role-b-put-only"] = world.assume("role-a", ROLE_B, Policy=json.dumps(only_put))
    world.client("role-b", "s3").get_object(Bucket=PRIVATE, Key=KEY)  # the role may read
    before = len(_audit(world.aws))
    with pytest.raises(ClientError) as caught:
        world.client("role-b-put-only", "s3").get_object(Bucket=PRIVATE, Key=KEY)
    assert caught.value.response["Error"]["Message"].endswith(
        "because no session policy allows the s3:GetObject action"
    )
    (entry,) = [e for e in _audit(world.aws)[before:] if e["action"] == "s3:GetObject"]
    assert (entry["decision"], entry["decided_by"]) == ("implicitDeny", "session_policy")


def test_service_principal_decisions_are_audited(world: World) -> None:
    before = len(_audit(world.aws))
    verdict = world.aws.services.authorize(
        "scheduler.amazonaws.com",
        "lambda:InvokeFunction",
        FUNCTION_ARN,
        source_account=ACCOUNT_A,
        source_arn=f"arn:aws:scheduler:us-east-1:{ACCOUNT_A}:schedule/default/iss",
    )
    assert not verdict.allowed  # no such function, so no resource policy grants it
    (entry,) = _audit(world.aws)[before:]
    assert entry["principal"] == "scheduler.amazonaws.com"
    assert entry["via"] == "service"
    assert entry["aws:SourceAccount"] == ACCOUNT_A


class _EmptyBody:
    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield b""


@pytest.mark.parametrize("kind", ["client", "raw"])
def test_a_probe_client_makes_one_attempt(world: World, kind: str) -> None:
    # A probe asserts the first answer: a retried request would hide a flaky refusal and
    # leave two audit lines. botocore's max_attempts counts retries (1 meant 2 attempts).
    client = (
        world.client("operator", "sts")
        if kind == "client"
        else world.raw(
            world.aws.operator.access_key_id, world.aws.operator.secret_access_key, "sts"
        )
    )
    sent: list[str] = []

    def unavailable(request: Any, **kwargs: Any) -> AWSResponse:
        sent.append(request.url)
        return AWSResponse(request.url, 503, {}, _EmptyBody())

    client.meta.events.register("before-send", unavailable)
    with pytest.raises(ClientError):
        client.get_caller_identity()
    assert len(sent) == 1


def test_every_request_that_reached_moto_was_decided(world: World) -> None:
    ids = {e["request_id"] for e in _audit(world.aws) if e["via"] in ("https", "http")}
    assert world.aws.requests_served > 0
    assert len(ids) == world.aws.requests_served


def test_conditional_writes_are_atomic_per_key(world: World) -> None:
    # The reporter's read-append-write relies on this: of concurrent If-Match writes on
    # one ETag, exactly one may win; the others get 412 PreconditionFailed.
    s3 = world.client("role-b", "s3")
    key = "race.txt"
    for round_ in range(3):
        etag = s3.put_object(Bucket=PRIVATE, Key=key, Body=f"round {round_}\n".encode())["ETag"]
        barrier = threading.Barrier(8)
        outcomes: list[str] = []

        def write(
            n: int,
            etag: str = etag,
            barrier: threading.Barrier = barrier,
            outcomes: list[str] = outcomes,
        ) -> None:
            client = world.client("role-b", "s3")
            barrier.wait()
            try:
                client.put_object(Bucket=PRIVATE, Key=key, Body=f"{n}\n".encode(), IfMatch=etag)
                outcomes.append("won")
            except ClientError as exc:
                outcomes.append(exc.response["Error"]["Code"])

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["PreconditionFailed"] * 7 + ["won"]


def _create_key_as_account_b_admin(policy: str) -> str:
    # Straight into the emulator's state (an administrator's console click), so the test
    # controls the key policy exactly. Tagged as the deploy's key, as infra/ tags it: role B's
    # permissions boundary allows the data-key actions on such keys only.
    from moto.kms.models import kms_backends

    key = kms_backends[ACCOUNT_B]["us-east-1"].create_key(
        policy,
        "ENCRYPT_DECRYPT",
        "SYMMETRIC_DEFAULT",
        "bucket key",
        [{"TagKey": "crosstrack-deploy", "TagValue": "iss-reporting-"}],
    )
    return str(key.arn)


def test_terraform_role_may_create_a_kms_key(world: World) -> None:
    # kms:CreateKey on "*" is governed by IAM policies alone (there is no key policy yet),
    # and the deploy role's only with the tag that marks the deploy's keys (aws:RequestTag).
    kms = world.client("terraform", "kms")
    with pytest.raises(ClientError) as caught:
        kms.create_key(Description="bucket key")
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    key = kms.create_key(
        Description="bucket key",
        Tags=[{"TagKey": "crosstrack-deploy", "TagValue": "iss-reporting-"}],
    )
    assert key["KeyMetadata"]["KeyManager"] == "CUSTOMER"


def test_sse_kms_objects_need_the_key_policy_and_an_identity_allow(world: World) -> None:
    root_delegation = _doc(
        {
            "Sid": "AccountBDelegatesToIAM",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_B}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    key_arn = _create_key_as_account_b_admin(root_delegation)
    s3 = world.client("role-b", "s3")
    put = {
        "Bucket": PRIVATE,
        "Key": "encrypted.txt",
        "Body": b"secret\n",
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": key_arn,
    }
    with pytest.raises(ClientError) as caught:
        s3.put_object(**put)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert (
        f'kms:GenerateDataKey on resource: "{key_arn}" because no identity-based policy '
        "allows the kms:GenerateDataKey action"
    ) in caught.value.response["Error"]["Message"]

    world.client("terraform", "iam").put_role_policy(
        RoleName="access-s3-bucket",
        PolicyName="use-the-bucket-key",
        PolicyDocument=_doc(
            {
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": key_arn,
            }
        ),
    )
    before = len(_audit(world.aws))
    s3.put_object(**put)
    assert s3.get_object(Bucket=PRIVATE, Key="encrypted.txt")["Body"].read() == b"secret\n"
    kms_entries = [e for e in _audit(world.aws)[before:] if e["action"].startswith("kms:")]
    assert [(e["action"], e["decision"]) for e in kms_entries] == [
        ("kms:GenerateDataKey", "allowed"),
        ("kms:Decrypt", "allowed"),
    ]
    assert all(e["resource"] == key_arn for e in kms_entries)


def test_max_session_duration_is_the_role_s_own(world: World) -> None:
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (DurationSeconds:
    # up to the role's maximum session duration setting); not role chaining: the operator is
    # a user.
    iam = world.client("operator", "iam")
    name = "two-hour-sessions"
    operator = f"arn:aws:iam::{ACCOUNT_A}:user/operator"
    iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=_trust({"AWS": operator}), MaxSessionDuration=7200
    )
    role_arn = f"arn:aws:iam::{ACCOUNT_A}:role/{name}"
    iam.put_user_policy(
        UserName="operator",
        PolicyName="assume-two-hour-sessions",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}),
    )
    assert world.assume("operator", role_arn, DurationSeconds=7200)[0]
    with pytest.raises(ClientError) as refused:
        world.assume("operator", role_arn, DurationSeconds=7201)
    assert refused.value.response["Error"]["Message"] == (
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )


def test_services_act_only_for_a_running_local_aws(tmp_path: Path) -> None:
    with pytest.raises(LocalAWSError, match="not running"):
        LocalAWS(tmp_path / "never-started").services.assume_role(
            "lambda.amazonaws.com", ROLE_A, source_account=ACCOUNT_A, source_arn=FUNCTION_ARN
        )
