"""B's deploy role (infra/bootstrap/) cannot take over account B (issue 11, item 1).

Pure engine: the filled template is evaluated by crosstrack.iam as the identity policy of
the ``terraform`` role's session, with a KMS key policy that delegates to IAM (AWS's default
key policy, which infra/ uses too) where a key is involved. Every escalation attempt an
attacker holding the deploy role would try is refused; what ``terraform apply``/``destroy``
of infra/ needs is allowed (the real apply is tests/integration/test_infra_deploy.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crosstrack.iam import simulate
from crosstrack.local.errors import BootstrapError
from crosstrack.local.setup.deploy_role import (
    BOUNDARY_FILE,
    DEPLOY_TAG_KEY,
    DeployRoleValues,
    boundary_arn,
    boundary_policy,
    fill,
)

ROOT = Path(__file__).resolve().parents[3]
BOOTSTRAP = ROOT / "infra" / "bootstrap"
B = "222222222222"
OPERATOR = "arn:aws:iam::111111111111:user/operator"
KEY = f"arn:aws:kms:us-east-1:{B}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OURS = {f"aws:ResourceTag/{DEPLOY_TAG_KEY}": "iss-reporting-"}
BOUNDARY = boundary_arn("aws", B)
BOUNDED = {"iam:PermissionsBoundary": BOUNDARY}
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
DELEGATING_KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AccountAdministersTheKey",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}


def _permissions() -> dict[str, Any]:
    text = (BOOTSTRAP / "terraform-role-permissions.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(fill(text, DeployRoleValues(OPERATOR), source="test"))
    return document


PERMISSIONS = _permissions()


def _decide(action: str, resource: str, **context: str | list[str]) -> str:
    resource_policy = (
        DELEGATING_KEY_POLICY if action.startswith("kms:") and resource != "*" else None
    )
    result = simulate(
        {
            "request": {
                "principal": f"arn:aws:sts::{B}:assumed-role/terraform/crosstrack-terraform",
                "principal_arn": f"arn:aws:iam::{B}:role/terraform",
                "action": action,
                "resource": resource,
                "resource_account": B,
                "context": {
                    "aws:SecureTransport": "true",
                    "aws:PrincipalAccount": B,
                    **context,
                },
            },
            "identity_policies": [{"name": "terraform-deploy", "document": PERMISSIONS}],
            "resource_policy": resource_policy,
        }
    )
    decision = result["decision"]
    assert isinstance(decision, str)
    return decision


def _role(name: str) -> str:
    return f"arn:aws:iam::{B}:role/{name}"


ESCALATIONS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("create another role", "iam:CreateRole", _role("backdoor"), {}),
    ("create role B under another path", "iam:CreateRole", _role("ops/access-s3-bucket"), {}),
    (
        "attach a managed policy to role B",
        "iam:AttachRolePolicy",
        _role("access-s3-bucket"),
        {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"},
    ),
    ("attach a managed policy to another role", "iam:AttachRolePolicy", _role("backdoor"), {}),
    (
        "put an inline policy on the organization's admin role",
        "iam:PutRolePolicy",
        _role("OrganizationAccountAccessRole"),
        {},
    ),
    (
        "change the trust of the organization's admin role",
        "iam:UpdateAssumeRolePolicy",
        _role("OrganizationAccountAccessRole"),
        {},
    ),
    ("change a role under another path", "iam:PutRolePolicy", _role("ops/terraform"), {}),
    (
        "change the trust of a role under another path",
        "iam:UpdateAssumeRolePolicy",
        _role("ops/terraform"),
        {},
    ),
    ("change this deploy role's policy", "iam:PutRolePolicy", _role("terraform"), {}),
    ("change this deploy role's trust", "iam:UpdateAssumeRolePolicy", _role("terraform"), {}),
    ("delete this deploy role", "iam:DeleteRole", _role("terraform"), {}),
    ("delete this deploy role's policy", "iam:DeleteRolePolicy", _role("terraform"), {}),
    (
        "attach a managed policy to this deploy role",
        "iam:AttachRolePolicy",
        _role("terraform"),
        {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"},
    ),
    (
        "lift this deploy role's boundary",
        "iam:DeleteRolePermissionsBoundary",
        _role("terraform"),
        {},
    ),
    ("tag this deploy role", "iam:TagRole", _role("terraform"), {}),
    (
        "read another role's policies",
        "iam:GetRolePolicy",
        _role("OrganizationAccountAccessRole"),
        {},
    ),
    (
        "set a boundary-free role B",
        "iam:DeleteRolePermissionsBoundary",
        _role("access-s3-bucket"),
        {},
    ),
    ("create role B without the boundary", "iam:CreateRole", _role("access-s3-bucket"), {}),
    (
        "create role B with another boundary",
        "iam:CreateRole",
        _role("access-s3-bucket"),
        {"iam:PermissionsBoundary": ADMIN_POLICY},
    ),
    (
        "create role B bounded by a look-alike policy of another account",
        "iam:CreateRole",
        _role("access-s3-bucket"),
        {"iam:PermissionsBoundary": boundary_arn("aws", "333333333333")},
    ),
    (
        "put an admin inline policy on an unbounded role B",
        "iam:PutRolePolicy",
        _role("access-s3-bucket"),
        {},
    ),
    (
        "make an unbounded role B trust the operator",
        "iam:UpdateAssumeRolePolicy",
        _role("access-s3-bucket"),
        {},
    ),
    (
        "swap role B's boundary for an admin policy",
        "iam:PutRolePermissionsBoundary",
        _role("access-s3-bucket"),
        {"iam:PermissionsBoundary": ADMIN_POLICY},
    ),
    (
        "remove role B's boundary",
        "iam:DeleteRolePermissionsBoundary",
        _role("access-s3-bucket"),
        BOUNDED,
    ),
    ("change the boundary policy", "iam:CreatePolicyVersion", BOUNDARY, {}),
    (
        "make another version of the boundary the default",
        "iam:SetDefaultPolicyVersion",
        BOUNDARY,
        {},
    ),
    ("delete the boundary policy", "iam:DeletePolicy", BOUNDARY, {}),
    ("tag the boundary policy", "iam:TagPolicy", BOUNDARY, {}),
    ("delete a version of the boundary policy", "iam:DeletePolicyVersion", BOUNDARY, {}),
    (
        "create a policy version",
        "iam:CreatePolicyVersion",
        f"arn:aws:iam::{B}:policy/ops-admin",
        {},
    ),
    ("create a managed policy", "iam:CreatePolicy", f"arn:aws:iam::{B}:policy/backdoor", {}),
    (
        "pass role B to a service",
        "iam:PassRole",
        _role("access-s3-bucket"),
        {"iam:PassedToService": "lambda.amazonaws.com"},
    ),
    ("pass another role", "iam:PassRole", _role("OrganizationAccountAccessRole"), {}),
    ("create a user", "iam:CreateUser", f"arn:aws:iam::{B}:user/backdoor", {}),
    ("create an access key", "iam:CreateAccessKey", f"arn:aws:iam::{B}:user/admin", {}),
    ("put a key policy on a key it did not create", "kms:PutKeyPolicy", KEY, {}),
    ("schedule deletion of a key it did not create", "kms:ScheduleKeyDeletion", KEY, {}),
    (
        "schedule deletion of another deployment's key",
        "kms:ScheduleKeyDeletion",
        KEY,
        {f"aws:ResourceTag/{DEPLOY_TAG_KEY}": "other-prefix-"},
    ),
    (
        "mark a foreign key as its own",
        "kms:TagResource",
        KEY,
        {f"aws:RequestTag/{DEPLOY_TAG_KEY}": "iss-reporting-", "aws:TagKeys": [DEPLOY_TAG_KEY]},
    ),
    ("create an untagged key", "kms:CreateKey", "*", {}),
    (
        "create a key tagged for another deployment",
        "kms:CreateKey",
        "*",
        {f"aws:RequestTag/{DEPLOY_TAG_KEY}": "other-prefix-", "aws:TagKeys": [DEPLOY_TAG_KEY]},
    ),
    ("re-point another alias", "kms:CreateAlias", f"arn:aws:kms:us-east-1:{B}:alias/aws/s3", {}),
    ("put a bucket policy outside the prefix", "s3:PutBucketPolicy", "arn:aws:s3:::payroll", {}),
    ("delete a bucket outside the prefix", "s3:DeleteBucket", "arn:aws:s3:::payroll", {}),
    ("delete objects outside the prefix", "s3:DeleteObject", "arn:aws:s3:::payroll/2025.csv", {}),
    ("write a log record", "s3:PutObject", "arn:aws:s3:::iss-reporting-abc/iss_position.txt", {}),
]


def test_the_table_covers_the_issue() -> None:
    assert len(ESCALATIONS) >= 12


@pytest.mark.parametrize(
    ("attempt", "action", "resource", "context"), ESCALATIONS, ids=[e[0] for e in ESCALATIONS]
)
def test_escalation_attempts_are_denied(
    attempt: str, action: str, resource: str, context: dict[str, Any]
) -> None:
    assert _decide(action, resource, **context) != "allowed", attempt


CHANGES_TO_ITSELF = [e for e in ESCALATIONS if e[2] == _role("terraform")]


@pytest.mark.parametrize(
    ("attempt", "action", "resource", "context"),
    CHANGES_TO_ITSELF,
    ids=[e[0] for e in CHANGES_TO_ITSELF],
)
def test_every_change_to_itself_is_denied_explicitly(
    attempt: str, action: str, resource: str, context: dict[str, Any]
) -> None:
    """Explicitly, so no Allow added later (or a managed policy) can reopen it."""
    assert _decide(action, resource, **context) == "explicitDeny", attempt


# Reading its own permissions is harmless, and lets `crosstrack doctor --local` (which reads
# account B as this role) check that it cannot escalate.
READS_OF_ITSELF = [
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
]


@pytest.mark.parametrize("action", READS_OF_ITSELF)
def test_it_may_read_its_own_role_and_policies(action: str) -> None:
    assert _decide(action, _role("terraform")) == "allowed"


LEGITIMATE: list[tuple[str, str, dict[str, Any]]] = [
    (
        "iam:CreateRole",
        _role("access-s3-bucket"),
        {"aws:RequestTag/Project": "crosstrack", "aws:TagKeys": ["Project"], **BOUNDED},
    ),
    ("iam:PutRolePolicy", _role("access-s3-bucket"), BOUNDED),
    ("iam:UpdateAssumeRolePolicy", _role("access-s3-bucket"), BOUNDED),
    # A role B deployed before the boundary existed gets it on the next apply.
    ("iam:PutRolePermissionsBoundary", _role("access-s3-bucket"), BOUNDED),
    ("iam:GetRole", _role("access-s3-bucket"), BOUNDED),
    ("iam:ListAttachedRolePolicies", _role("access-s3-bucket"), {}),
    # Reading role B's boundary (the doctor does, to decide role B's links).
    ("iam:GetPolicy", BOUNDARY, {}),
    ("iam:GetPolicyVersion", BOUNDARY, {}),
    ("iam:DeleteRolePolicy", _role("access-s3-bucket"), BOUNDED),
    ("iam:DeleteRole", _role("access-s3-bucket"), BOUNDED),
    (
        "kms:CreateKey",
        "*",
        {
            f"aws:RequestTag/{DEPLOY_TAG_KEY}": "iss-reporting-",
            "aws:RequestTag/Project": "crosstrack",
            "aws:TagKeys": [DEPLOY_TAG_KEY, "Project"],
        },
    ),
    ("kms:DescribeKey", KEY, OURS),
    ("kms:PutKeyPolicy", KEY, OURS),
    ("kms:EnableKeyRotation", KEY, OURS),
    ("kms:ScheduleKeyDeletion", KEY, OURS),
    ("kms:CreateAlias", KEY, OURS),
    ("kms:CreateAlias", f"arn:aws:kms:us-east-1:{B}:alias/crosstrack-iss-reporting-abc", {}),
    ("kms:ListAliases", "*", {}),
    ("s3:CreateBucket", "arn:aws:s3:::iss-reporting-abc", {}),
    ("s3:PutBucketPolicy", "arn:aws:s3:::iss-reporting-abc", {}),
    ("s3:PutEncryptionConfiguration", "arn:aws:s3:::iss-reporting-abc", {}),
    ("s3:DeleteObjectVersion", "arn:aws:s3:::iss-reporting-abc/iss_position.txt", {}),
    ("s3:GetObject", "arn:aws:s3:::iss-reporting-abc/iss_position.txt", {}),
    ("s3:DeleteBucket", "arn:aws:s3:::iss-reporting-abc", {}),
]


@pytest.mark.parametrize(("action", "resource", "context"), LEGITIMATE)
def test_what_terraform_needs_is_allowed(
    action: str, resource: str, context: dict[str, Any]
) -> None:
    assert _decide(action, resource, **context) == "allowed"


def test_the_prefix_wide_bucket_risk_is_written_in_the_sid() -> None:
    sids = [s.get("Sid", "") for s in PERMISSIONS["Statement"]]
    assert any("AcceptedRisk" in sid and "Prefix" in sid for sid in sids), sids
    assert any("ForceDestroy" in sid for sid in sids), sids


# ------------------------------------------------------------------ role B's boundary
#
# What the deploy role may still do to role B (its inline policy and trust) is harmless once
# the boundary is required: role B's effective access is the intersection of its identity
# policy and its boundary (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).

ROLE_B_BOUNDARY = json.loads(boundary_policy(BOOTSTRAP, DeployRoleValues(OPERATOR)))
ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _role_b(action: str, resource: str, *, bounded: bool = True, **context: str) -> str:
    """Decision for role B's session holding ``*`` on ``*`` inline (the attacker's edit)."""
    result = simulate(
        {
            "request": {
                "principal": f"arn:aws:sts::{B}:assumed-role/access-s3-bucket/x",
                "principal_arn": _role("access-s3-bucket"),
                "action": action,
                "resource": resource,
                "resource_account": B,
                "context": {"aws:SecureTransport": "true", "aws:PrincipalAccount": B, **context},
            },
            "identity_policies": [{"name": "backdoor", "document": ADMIN}],
            "resource_policy": DELEGATING_KEY_POLICY if action.startswith("kms:") else None,
            "permission_boundary": (
                {"name": BOUNDARY, "document": ROLE_B_BOUNDARY} if bounded else None
            ),
        }
    )
    decision = result["decision"]
    assert isinstance(decision, str)
    return decision


def test_an_admin_inline_policy_on_role_b_is_allowed_only_with_the_boundary() -> None:
    role_b = _role("access-s3-bucket")
    assert _decide("iam:PutRolePolicy", role_b, **BOUNDED) == "allowed"
    assert _decide("iam:PutRolePolicy", role_b) != "allowed"
    # ... and without the boundary, that policy would take over account B:
    assert _role_b("iam:CreateUser", f"arn:aws:iam::{B}:user/x", bounded=False) == "allowed"


BEYOND_THE_BOUNDARY: list[tuple[str, str, dict[str, str]]] = [
    ("s3:DeleteBucket", "arn:aws:s3:::iss-reporting-abc", {}),
    ("s3:DeleteObject", "arn:aws:s3:::iss-reporting-abc/iss_position.txt", {}),
    ("s3:PutBucketPolicy", "arn:aws:s3:::iss-reporting-abc", {}),
    ("s3:GetObject", "arn:aws:s3:::payroll/2025.csv", {}),
    ("s3:PutObject", "arn:aws:s3:::payroll/2025.csv", {}),
    ("s3:ListBucket", "arn:aws:s3:::payroll", {}),
    ("iam:CreateUser", f"arn:aws:iam::{B}:user/backdoor", {}),
    ("iam:AttachRolePolicy", _role("OrganizationAccountAccessRole"), {}),
    ("iam:DeleteRolePermissionsBoundary", _role("access-s3-bucket"), {}),
    ("sts:AssumeRole", _role("OrganizationAccountAccessRole"), {}),
    ("kms:Decrypt", KEY, {}),
    ("kms:Decrypt", KEY, {f"aws:ResourceTag/{DEPLOY_TAG_KEY}": "other-prefix-"}),
    ("kms:ScheduleKeyDeletion", KEY, OURS),
]


@pytest.mark.parametrize(("action", "resource", "context"), BEYOND_THE_BOUNDARY)
def test_the_boundary_makes_an_admin_role_b_harmless(
    action: str, resource: str, context: dict[str, str]
) -> None:
    assert _role_b(action, resource, **context) != "allowed"


WITHIN_THE_BOUNDARY: list[tuple[str, str, dict[str, str]]] = [
    ("s3:GetObject", "arn:aws:s3:::iss-reporting-abc/iss_position.txt", {}),
    ("s3:PutObject", "arn:aws:s3:::iss-reporting-abc/iss_position/2025/12/06.txt", {}),
    ("s3:ListBucket", "arn:aws:s3:::iss-reporting-abc", {}),
    ("kms:GenerateDataKey", KEY, OURS),
    ("kms:Decrypt", KEY, OURS),
]


@pytest.mark.parametrize(("action", "resource", "context"), WITHIN_THE_BOUNDARY)
def test_the_boundary_leaves_what_the_reporter_needs(
    action: str, resource: str, context: dict[str, str]
) -> None:
    assert _role_b(action, resource, **context) == "allowed"


def test_the_deploy_role_names_the_boundary_infra_defaults_to() -> None:
    """The ARN the deploy role requires is the one infra/modules/target-account builds."""
    main = (ROOT / "infra" / "modules" / "target-account" / "main.tf").read_text("utf-8")
    name = BOUNDARY.rsplit("/", 1)[1]
    assert f':policy/{name}"' in main
    text = json.dumps(PERMISSIONS)
    assert f"arn:aws:iam::${{aws:PrincipalAccount}}:policy/{name}" in text
    assert (BOOTSTRAP / BOUNDARY_FILE).is_file()


# ------------------------------------------------------------------------- filling


def test_filled_with_other_names_scopes_to_them() -> None:
    text = (BOOTSTRAP / "terraform-role-permissions.json").read_text(encoding="utf-8")
    values = DeployRoleValues(
        OPERATOR, partition="aws-us-gov", bucket_prefix="logs-", target_role_name="writer"
    )
    filled = fill(text, values, source="test")
    # Only AWS's own policy variable is left, for AWS to fill.
    assert filled.replace("${aws:PrincipalAccount}", "").count("${") == 0
    assert "arn:aws-us-gov:s3:::logs-*" in filled
    assert "arn:aws-us-gov:iam::*:role/writer" in filled
    assert "iss-reporting" not in filled
    assert "access-s3-bucket" not in filled


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bucket_prefix", "*"),
        ("bucket_prefix", "iss-*"),
        ("bucket_prefix", 'x", "Resource": "*'),
        ("target_role_name", "*"),
        ("target_role_name", "ops/terraform"),
        ("partition", "aws*"),
        ("operator_arn", "*"),
        ("operator_arn", "arn:aws:iam::*:root"),
    ],
)
def test_values_that_would_widen_the_policy_are_refused(field: str, value: str) -> None:
    text = (BOOTSTRAP / "terraform-role-permissions.json").read_text(encoding="utf-8")
    values = {**DeployRoleValues(OPERATOR).as_mapping(), field: value}
    with pytest.raises(BootstrapError, match=field):
        fill(text, values, source="test")


def test_unknown_placeholders_are_refused() -> None:
    with pytest.raises(BootstrapError, match=r"\$\{account_id\}"):
        fill('{"a": "${account_id}"}', DeployRoleValues(OPERATOR), source="t.json")


def test_the_documented_sed_fill_gives_the_bootstrap_policy(tmp_path: Path) -> None:
    """docs/deploy.md's `fill` (run by bash, as a user would) equals the local bootstrap's."""
    import re
    import shutil
    import subprocess

    bash, sed = shutil.which("bash"), shutil.which("sed")
    if bash is None or sed is None:
        pytest.skip("bash and sed are needed to run the documented commands")
    docs = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- fill:begin -->\n```sh\n(.*?)```\n<!-- fill:end -->", docs, re.S)
    assert block, "docs/deploy.md lost its fill block"
    script = block[1].replace(
        "$(aws sts get-caller-identity --query Arn --output text)", f"'{OPERATOR}'"
    )
    script = script.replace("/tmp/", f"{tmp_path}/")
    done = subprocess.run(
        [bash, "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    values = DeployRoleValues(OPERATOR)
    outputs = {
        "terraform-role-permissions.json": "permissions.json",
        "terraform-role-trust.json": "trust.json",
        BOUNDARY_FILE: "boundary.json",
    }
    for name, out in outputs.items():
        expected = fill((BOOTSTRAP / name).read_text(encoding="utf-8"), values, source=name)
        got = tmp_path / out
        assert json.loads(got.read_text(encoding="utf-8")) == json.loads(expected), name
