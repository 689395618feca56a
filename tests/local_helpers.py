"""Set-up shared by the tests that run against a LocalAWS (tests/integration, tests/unit/local).

Clients and users for a running local AWS, the policy documents the tests write, and the
closed world's ``World``: a LocalAWS plus named credentials, with a bucket holding one object.
Set-up only, plus ``denied``: the one refusal check the KMS tests share.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import pytest
import urllib3
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from crosstrack.local import ACCOUNT_A, LocalAWS

OPERATOR_ARN = f"arn:aws:iam::{ACCOUNT_A}:user/operator"

# The closed world's object (closed_world() puts it in place).
BUCKET = "iss-reporting-closed-world"
KEY = "iss_position.txt"
ORIGINAL = b"ISS Location Logs\n"


# ------------------------------------------------------------------------------ policies
def policy(*statements: dict[str, Any]) -> str:
    """A policy document holding ``statements``, as IAM and KMS take it (JSON text)."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def grant(principal: str | list[str], action: str | list[str]) -> dict[str, Any]:
    """A resource-policy statement allowing ``principal`` ``action`` on the resource."""
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": "*"}


def operator_only_key_policy() -> str:
    """A KMS key policy naming only the operator: with no account-root statement, the IAM
    policies of other principals do not count for the key."""
    return policy(grant(OPERATOR_ARN, "kms:*"))


# ------------------------------------------------------------------- clients and users
def operator_credentials(aws: LocalAWS) -> Credentials:
    return Credentials(aws.operator.access_key_id, aws.operator.secret_access_key)


def client(
    aws: LocalAWS,
    service: str,
    *,
    credentials: Credentials | None = None,
    region: str = "us-east-1",
    **config: Any,
) -> Any:
    """A boto3 client of ``aws`` (the operator's unless ``credentials`` are given) that tries
    once and addresses S3 by path; ``config`` adds botocore Config options."""
    creds = credentials or operator_credentials(aws)
    return boto3.client(
        service,
        endpoint_url=aws.endpoint,
        verify=str(aws.ca_bundle),
        region_name=region,
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        aws_session_token=creds.token,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}, **config),
    )


def make_bucket(
    aws: LocalAWS,
    name: str,
    objects: Mapping[str, bytes] | None = None,
    *,
    region: str = "us-east-1",
) -> Any:
    """Bucket ``name`` created by the operator in ``region``, holding ``objects`` (key: body);
    returns the operator's S3 client of that region."""
    s3 = client(aws, "s3", region=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    for key, body in (objects or {}).items():
        s3.put_object(Bucket=name, Key=key, Body=body)
    return s3


def iam_user(
    aws: LocalAWS, name: str, *statements: dict[str, Any], policy_name: str
) -> Credentials:
    """A user of account A whose only identity policy is ``statements``, created by the
    operator through the IAM API."""
    iam = client(aws, "iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=policy_name, PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def moto_user(
    name: str, *statements: dict[str, Any], policy_name: str, account: str = ACCOUNT_A
) -> Credentials:
    """A user of ``account`` whose only identity policy is ``statements`` (none: no policy),
    written straight into the emulator's IAM state, as that account's administrator would."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["global"]
    backend.create_user(region_name="us-east-1", user_name=name, path="/", tags=[])
    if statements:
        backend.put_user_policy(name, policy_name, policy(*statements))
    key = backend.create_access_key(name)
    return Credentials(key.access_key_id, key.secret_access_key)


def moto_role(name: str, trust: str, *, account: str) -> None:
    """A role of ``account`` trusted as ``trust`` (a policy document, JSON text) says, written
    straight into the emulator's IAM state, as that account's administrator would."""
    from moto.iam.models import iam_backends

    iam_backends[account]["global"].create_role(
        role_name=name,
        assume_role_policy_document=trust,
        path="/",
        permissions_boundary=None,
        description="",
        tags=[],
        max_session_duration="3600",
    )


def denied(call: Any, action: str, resource: str) -> None:
    """``call()`` is refused with AccessDeniedException naming ``action`` on ``resource``."""
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    assert error["Code"] == "AccessDeniedException", error
    assert f"perform: {action} on resource: {resource}" in error["Message"], error


# --------------------------------------------------------------------------- the world
@dataclass
class World:
    """A running local AWS and the credentials of its named callers ("operator" first)."""

    aws: LocalAWS
    keys: dict[str, Credentials]

    @classmethod
    def of(cls, aws: LocalAWS) -> World:
        return cls(aws, {"operator": operator_credentials(aws)})

    def client(self, who: str, service: str, **config: Any) -> Any:
        return client(self.aws, service, credentials=self.keys[who], **config)

    def add_user(self, name: str, statement: dict[str, Any]) -> None:
        """A user named ``name`` whose only policy is ``statement``, callable as ``name``."""
        self.keys[name] = iam_user(self.aws, name, statement, policy_name="only")

    def send(
        self,
        who: str,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        body_on_wire: bytes | None = None,
        declared: str | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """A request signed by botocore's S3 signer, sent as is (``body_on_wire`` replaces
        the signed body after signing; ``declared`` is the x-amz-content-sha256 signed)."""
        request = AWSRequest(
            method=method, url=f"{self.aws.endpoint}{path}", data=body, headers=headers or {}
        )

        class Signer(botocore.auth.S3SigV4Auth):
            def payload(self, request: AWSRequest) -> str:
                return declared or str(super().payload(request))

        Signer(self.keys[who], "s3", "us-east-1").add_auth(request)
        prepared = request.prepare()
        pool = urllib3.PoolManager(ca_certs=str(self.aws.ca_bundle))
        return pool.request(
            method,
            prepared.url,
            body=body if body_on_wire is None else body_on_wire,
            headers=dict(prepared.headers),
            retries=False,
        )

    def object(self) -> bytes:
        """The closed world's object as it is now."""
        s3 = self.client("operator", "s3")
        return bytes(s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read())

    def audit(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.aws.audit_log.read_text().splitlines()]


def closed_world(aws: LocalAWS, *, versioned: bool = False) -> World:
    """The operator's world over ``aws``, with BUCKET holding KEY = ORIGINAL."""
    world = World.of(aws)
    s3 = world.client("operator", "s3")
    s3.create_bucket(Bucket=BUCKET)
    if versioned:
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=ORIGINAL)
    return world


# ------------------------------------------------------------------------- the demo
@contextmanager
def deployed_demo(workdir: Path) -> Iterator[Any]:
    """The demo's local AWS with infra/ applied (offline sources), stopped afterwards."""
    from crosstrack.local.run.demo import Demo, DemoOptions

    demo = Demo(DemoOptions(workdir=workdir, offline=True))
    try:
        demo.start()
        demo.package()
        demo.deploy()
        yield demo
    finally:
        demo.stop()
