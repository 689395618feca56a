"""Shared fixtures: an isolated AWS environment, a moto server, and the deployed two accounts.

* Every test runs with fake credentials and no ``AWS_*`` variable from the outside world
  (autouse ``_isolated_aws_env``), so nothing can reach real AWS or leak between tests.
* ``moto_server``: one ``ThreadedMotoServer`` per test session (per xdist worker), on
  127.0.0.1 and a free port; yields its endpoint URL.
* ``two_accounts``: resets the server and deploys what Terraform deploys: role A
  ``connect-to-bridge`` in 111111111111 (trusted by Lambda, may assume role B), role B
  ``access-s3-bucket`` in 222222222222 (trusts role A; Get/Put on the log objects), and
  the versioned bucket ``iss-reporting-test`` in account B. Sets ``AWS_ENDPOINT_URL``.

moto picks a request's account from the caller's access key (IAM user keys and AssumeRole
keys map to their account; field-notes.md), so each account gets an admin user, created
through moto's ``x-moto-account-id`` header, and everything else uses ordinary keys.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
import pytest
from hypothesis import settings
from moto.server import ThreadedMotoServer

# Property tests run on a shared 2-core machine (CI runs two pytest workers): hypothesis'
# 200 ms per-example deadline turns a slow moment into a spurious failure, so the suite has none.
# Built on the profile hypothesis chose (its "ci" profile, derandomized, where CI is set).
settings.register_profile("crosstrack", parent=settings.default, deadline=None)
settings.load_profile("crosstrack")

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
REGION = "us-east-1"
ROLE_A = "connect-to-bridge"
ROLE_B = "access-s3-bucket"
BUCKET = "iss-reporting-test"
OBJECT_KEY = "iss_position.txt"


@pytest.fixture(autouse=True)
def _isolated_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, no profile/config files, no instance metadata; restored after."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 (never 0.0.0.0) and a free port; yields its URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _post(url: str, body: bytes = b"", content_type: str = "application/json") -> None:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # 127.0.0.1 only
        response.read()


def _in_account(client: Any, account: str) -> Any:
    """Make every request of ``client`` act in ``account`` (moto's x-moto-account-id)."""

    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    client.meta.events.register("before-sign.*.*", add_header)
    return client


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@dataclass(frozen=True)
class TwoAccounts:
    """The deployed two-account setup inside a moto server."""

    endpoint: str
    region: str
    account_a: str
    account_b: str
    role_a_arn: str
    role_b_arn: str
    bucket: str
    object_key: str
    admin_keys: dict[str, tuple[str, str]]

    def admin_session(self, account: str) -> boto3.Session:
        """An administrator of ``account`` (an IAM user with full access)."""
        key, secret = self.admin_keys[account]
        return boto3.Session(
            aws_access_key_id=key, aws_secret_access_key=secret, region_name=self.region
        )

    def admin_a(self) -> boto3.Session:
        return self.admin_session(self.account_a)

    def admin_b(self) -> boto3.Session:
        return self.admin_session(self.account_b)

    def role_a_credentials(self) -> dict[str, str]:
        """Fresh role-A session keys, as Lambda hands them to the function."""
        sts = self.admin_a().client("sts", endpoint_url=self.endpoint)
        creds = sts.assume_role(RoleArn=self.role_a_arn, RoleSessionName="lambda-runtime")[
            "Credentials"
        ]
        return {
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
        }

    def role_a_session(self) -> boto3.Session:
        """A boto3 session acting as role A (the Lambda execution role) in account A."""
        creds = self.role_a_credentials()
        return boto3.Session(
            aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=creds["AWS_SESSION_TOKEN"],
            region_name=self.region,
        )

    def role_a_botocore_session(self) -> botocore.session.Session:
        """The same, as the botocore session :class:`CrossAccountSessions` takes as source."""
        creds = self.role_a_credentials()
        session = botocore.session.Session()
        session.set_config_variable("region", self.region)
        session.set_credentials(
            creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"], creds["AWS_SESSION_TOKEN"]
        )
        return session

    def lambda_env(self) -> dict[str, str]:
        """The environment the reporter sees in Lambda (role-A keys + its settings)."""
        return {
            **self.role_a_credentials(),
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint,
            "ACCOUNT2_ROLE_ARN": self.role_b_arn,
            "BUCKET_NAME": self.bucket,
            "BUCKET_REGION": self.region,
            "OBJECT_KEY": self.object_key,
        }

    def use_lambda_env(self, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
        """Put :meth:`lambda_env` into ``os.environ`` for this test; returns it."""
        env = self.lambda_env()
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return env

    @contextlib.contextmanager
    def moto_auth(self) -> Iterator[None]:
        """Switch on moto's own signature and identity-policy checks for a block.

        moto alone never evaluates cross-account trust (field-notes.md): use this only to
        provoke identity-policy denials; crosstrack.local makes the real decisions.
        """
        _post(f"{self.endpoint}/moto-api/reset-auth", b"0", "text/plain")
        try:
            yield
        finally:
            _post(f"{self.endpoint}/moto-api/reset-auth", b"inf", "text/plain")

    def read_object(self, key: str | None = None) -> bytes:
        """The log object's bytes, read as account B's admin."""
        s3 = self.admin_b().client("s3", endpoint_url=self.endpoint)
        body: bytes = s3.get_object(Bucket=self.bucket, Key=key or self.object_key)["Body"].read()
        return body


@pytest.fixture
def two_accounts(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> TwoAccounts:
    """A clean server holding exactly the deployed roles and bucket of both accounts."""
    _post(f"{moto_server}/moto-api/reset")
    _post(f"{moto_server}/moto-api/reset-auth", b"inf", "text/plain")  # auth off, as moto starts
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)

    admin_keys: dict[str, tuple[str, str]] = {}
    for account in (ACCOUNT_A, ACCOUNT_B):
        iam = _in_account(boto3.client("iam", region_name=REGION), account)
        iam.create_user(UserName="admin")
        iam.put_user_policy(
            UserName="admin",
            PolicyName="admin",
            PolicyDocument=_policy({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        )
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        admin_keys[account] = (key["AccessKeyId"], key["SecretAccessKey"])

    def admin(account: str) -> boto3.Session:
        key, secret = admin_keys[account]
        return boto3.Session(
            aws_access_key_id=key, aws_secret_access_key=secret, region_name=REGION
        )

    role_a_arn = f"arn:aws:iam::{ACCOUNT_A}:role/{ROLE_A}"
    role_b_arn = f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE_B}"
    bucket_arn = f"arn:aws:s3:::{BUCKET}"
    stem = OBJECT_KEY.rsplit(".", 1)[0]

    # Account B: the bucket (versioned) and role B, which trusts role A only.
    iam_b = admin(ACCOUNT_B).client("iam")
    s3_b = admin(ACCOUNT_B).client("s3")
    s3_b.create_bucket(Bucket=BUCKET)
    s3_b.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    iam_b.create_role(
        RoleName=ROLE_B,
        AssumeRolePolicyDocument=_policy(
            {"Effect": "Allow", "Principal": {"AWS": role_a_arn}, "Action": "sts:AssumeRole"}
        ),
        MaxSessionDuration=3600,
    )
    s3_policy = iam_b.create_policy(
        PolicyName="access-s3-bucket-log",
        PolicyDocument=_policy(
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                # The single log object and the daily layout's objects under its stem.
                "Resource": [f"{bucket_arn}/{OBJECT_KEY}", f"{bucket_arn}/{stem}/*"],
            }
        ),
    )["Policy"]["Arn"]
    iam_b.attach_role_policy(RoleName=ROLE_B, PolicyArn=s3_policy)

    # Account A: role A, trusted by the Lambda service, allowed to assume role B only.
    iam_a = admin(ACCOUNT_A).client("iam")
    iam_a.create_role(
        RoleName=ROLE_A,
        AssumeRolePolicyDocument=_policy(
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ),
    )
    assume_policy = iam_a.create_policy(
        PolicyName="assume-access-s3-bucket",
        PolicyDocument=_policy(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_b_arn}
        ),
    )["Policy"]["Arn"]
    iam_a.attach_role_policy(RoleName=ROLE_A, PolicyArn=assume_policy)

    return TwoAccounts(
        endpoint=moto_server,
        region=REGION,
        account_a=ACCOUNT_A,
        account_b=ACCOUNT_B,
        role_a_arn=role_a_arn,
        role_b_arn=role_b_arn,
        bucket=BUCKET,
        object_key=OBJECT_KEY,
        admin_keys=admin_keys,
    )
