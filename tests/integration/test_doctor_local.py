"""`crosstrack doctor --local` against the real infra/ deployed into the local AWS.

One deployment (module scope) serves every test. Each breakage is made the way an operator
would make it -- boto3 calls as the operator in A, or as B's terraform role through the
generated ``account-b`` profile -- and restored afterwards. The intact chain passes every
row; each breakage fails exactly its row, naming the principal and the resource, and
``--probe`` does not contradict the prediction.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from tests.local_helpers import deployed_demo, moto_role
from typer.testing import CliRunner

from crosstrack.cli import app
from crosstrack.local.setup.deploy_role import DEPLOY_TAG_KEY, DeployRoleValues

pytestmark = [
    pytest.mark.slow,
    pytest.mark.terraform,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH"),
]

A, B = "111111111111", "222222222222"
# infra/modules/source-account's statement granting role A sts:AssumeRole on role B, only
# with lambda:SourceFunctionArn = the reporter's ARN.
ASSUME_B_SID = "AssumeOnlyRoleBOnlyFromTheReporterFunction"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with deployed_demo(tmp_path_factory.mktemp("doctor-demo")) as deployed:
        yield deployed


@pytest.fixture
def env(demo: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    variables: dict[str, str] = demo.aws.env()
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables


def doctor(*args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(app, ["doctor", "--local", "--json", *args])
    try:
        document = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(result.output) from None
    return result.exit_code, document, result.stderr


def session(profile: str) -> boto3.Session:
    return boto3.Session(profile_name=profile)


def test_intact_chain_passes_every_row(env: dict[str, str]) -> None:
    code, document, stderr = doctor()
    bad = [r for r in document["rows"] if r["verdict"] in ("fail", "unknown")]
    assert bad == []
    assert code == 0, stderr
    assert document["ok"] is True
    ids = {r["id"] for r in document["rows"]}
    assert {
        "0.schedule-trust",
        "0.invoke",
        "0.logs",
        "1.trust",
        "2.assume",
        "3.trust",
        "4.put",
        "4.get",
        "5.bucket",
        "5.kms",
    } <= ids
    assert "the demo's outputs" in stderr
    assert set(document) == {"ok", "rows"}
    for row in document["rows"]:
        assert set(row) == {
            "id",
            "link",
            "verdict",
            "principal",
            "action",
            "resource",
            "statement",
            "evidence",
            "fix",
        }
    # no credentials ever printed
    assert env["AWS_SECRET_ACCESS_KEY"] not in json.dumps(document) + stderr


# ----------------------------------------------------------------------------- breakages
Restore = Callable[[], None]


def _role_policy(
    profile: str, role: str, name: str, edit: Callable[[list[Any]], list[Any]]
) -> Restore:
    iam = session(profile).client("iam")
    saved = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    statements = [dict(s) for s in saved["Statement"]]
    iam.put_role_policy(
        RoleName=role,
        PolicyName=name,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": edit(statements)}),
    )
    return lambda: iam.put_role_policy(
        RoleName=role, PolicyName=name, PolicyDocument=json.dumps(saved)
    )


def _trust(profile: str, role: str, statement: dict[str, Any]) -> Restore:
    iam = session(profile).client("iam")
    saved = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    iam.update_assume_role_policy(
        RoleName=role,
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", **statement}],
            }
        ),
    )
    return lambda: iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(saved))


def _without(sid: str) -> Callable[[list[Any]], list[Any]]:
    return lambda statements: [s for s in statements if s.get("Sid") != sid]


def break_a_trust(d: Any) -> Restore:
    return _trust("account-a", "connect-to-bridge", {"Principal": {"Service": "ec2.amazonaws.com"}})


def break_a_assume(d: Any) -> Restore:
    return _role_policy(
        "account-a", "connect-to-bridge", "assume-target-role-and-log", _without(ASSUME_B_SID)
    )


def break_a_wrong_function(d: Any) -> Restore:
    other = d.deployment.function_arn.replace(d.deployment.function_name, "another-function")

    def edit(statements: list[Any]) -> list[Any]:
        for s in statements:
            if s.get("Sid") == ASSUME_B_SID:
                assert "lambda:SourceFunctionArn" in s["Condition"]["ArnEquals"], s
                s["Condition"] = {"ArnEquals": {"lambda:SourceFunctionArn": other}}
        return statements

    return _role_policy("account-a", "connect-to-bridge", "assume-target-role-and-log", edit)


def break_b_trust(d: Any) -> Restore:
    return _trust(
        "account-b", "access-s3-bucket", {"Principal": {"AWS": f"arn:aws:iam::{A}:user/operator"}}
    )


def break_b_external_id(d: Any) -> Restore:
    return _trust(
        "account-b",
        "access-s3-bucket",
        {
            "Principal": {"AWS": d.deployment.role_a_arn},
            "Condition": {"StringEquals": {"sts:ExternalId": "crosstrack-7f3a"}},
        },
    )


def break_b_put(d: Any) -> Restore:
    def edit(statements: list[Any]) -> list[Any]:
        for s in statements:
            if s.get("Sid") == "ReadAndAppendTheLogOnly":
                s["Action"] = ["s3:GetObject"]
        return statements

    return _role_policy("account-b", "access-s3-bucket", "append-iss-log", edit)


def _deny_in_bucket_policy(d: Any, sid: str, action: str) -> Restore:
    """Append a Deny of ``action`` on the log bucket's objects to everyone; undo it after."""
    s3 = session("account-b").client("s3")
    bucket = d.deployment.bucket
    saved = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    policy = json.loads(saved)
    policy["Statement"].append(
        {
            "Sid": sid,
            "Effect": "Deny",
            "Principal": "*",
            "Action": action,
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    return lambda: s3.put_bucket_policy(Bucket=bucket, Policy=saved)


def break_bucket_policy(d: Any) -> Restore:
    return _deny_in_bucket_policy(d, "FreezeTheLog", "s3:PutObject")


def break_kms(d: Any) -> Restore:
    b = session("account-b")
    kms, s3 = b.client("kms"), b.client("s3")
    bucket = d.deployment.bucket
    # The deploy role may create only keys tagged as this deployment's (infra/bootstrap/):
    # the tag's value is the bucket prefix the local AWS filled the role with, infra/'s default.
    prefix = DeployRoleValues(operator_arn="unused").bucket_prefix
    assert bucket.startswith(prefix)
    key = kms.create_key(
        Description="doctor test key without role B",
        Tags=[{"TagKey": DEPLOY_TAG_KEY, "TagValue": prefix}],
        Policy=json.dumps(
            {
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
        ),
    )["KeyMetadata"]["Arn"]
    saved = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    return lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=saved)


def break_recreated_role_a(d: Any) -> Restore:
    # IAM itself writes the unique id into a trust policy when the trusted role is deleted
    # (and no API accepts one), so the state is set as IAM leaves it: in the account's store.
    from moto.iam.models import iam_backends

    role = iam_backends[B]["global"].get_role("access-s3-bucket")
    saved = role.assume_role_policy_document
    role.assume_role_policy_document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TrustOnlyTheReporterRole",
                    "Effect": "Allow",
                    "Principal": {"AWS": "AROAZXCVBNMASDFGHJKL1"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )

    def restore() -> None:
        role.assume_role_policy_document = saved

    return restore


def break_schedule_invoke(d: Any) -> Restore:
    name = d.deployment.schedule_role_arn.rsplit("/", 1)[-1]
    return _role_policy("account-a", name, "invoke-reporter", _without("InvokeTheReporterOnly"))


def break_logs(d: Any) -> Restore:
    return _role_policy(
        "account-a", "connect-to-bridge", "assume-target-role-and-log", _without("WriteOwnLogs")
    )


BREAKAGES: dict[str, tuple[Callable[[Any], Restore], str, str, str]] = {
    # name: (break, failing row, principal contains, resource contains)
    "a-trust-without-lambda": (
        break_a_trust,
        "1.trust",
        "lambda.amazonaws.com",
        ":role/connect-to-bridge",
    ),
    "a-without-assume": (
        break_a_assume,
        "2.assume",
        "assumed-role/connect-to-bridge/",
        ":role/access-s3-bucket",
    ),
    "a-condition-wrong-function": (
        break_a_wrong_function,
        "2.assume",
        "assumed-role/connect-to-bridge/",
        ":role/access-s3-bucket",
    ),
    "b-trust-other-principal": (
        break_b_trust,
        "3.trust",
        "assumed-role/connect-to-bridge/",
        ":role/access-s3-bucket",
    ),
    "b-trust-external-id": (
        break_b_external_id,
        "3.trust",
        "assumed-role/connect-to-bridge/",
        ":role/access-s3-bucket",
    ),
    "b-without-put": (break_b_put, "4.put", "assumed-role/access-s3-bucket/", "iss_position.txt"),
    "bucket-policy-deny": (
        break_bucket_policy,
        "5.bucket",
        "assumed-role/access-s3-bucket/",
        "iss_position.txt",
    ),
    "key-policy-without-b": (break_kms, "5.kms", "assumed-role/access-s3-bucket/", ":key/"),
    "recreated-role-a": (
        break_recreated_role_a,
        "3.trust",
        "assumed-role/connect-to-bridge/",
        ":role/access-s3-bucket",
    ),
    "schedule-without-invoke": (break_schedule_invoke, "0.invoke", "-scheduler/", ":function:"),
    "logs": (break_logs, "0.logs", "assumed-role/connect-to-bridge/", ":log-group:"),
}


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_each_breakage_fails_exactly_its_row(demo: Any, env: dict[str, str], name: str) -> None:
    breaker, row_id, principal, resource = BREAKAGES[name]
    restore = breaker(demo)
    try:
        code, document, _stderr = doctor()
        probed = doctor("--probe")
    finally:
        restore()
    bad = [r for r in document["rows"] if r["verdict"] in ("fail", "unknown")]
    assert [r["id"] for r in bad] == [row_id], bad
    (row,) = bad
    assert row["verdict"] == "fail"
    assert principal in row["principal"]
    assert resource in row["resource"]
    if name == "a-condition-wrong-function":
        # the statement whose condition names another function, not just "no Allow"
        assert row["statement"]["sid"] == ASSUME_B_SID, row
        assert "lambda:SourceFunctionArn" in row["evidence"], row
    assert row["fix"]
    assert code == 1
    assert document["ok"] is False
    # --probe agrees: no probe row contradicts the prediction
    disagreements = [
        r for r in probed[1]["rows"] if r["id"].startswith("probe.") and r["verdict"] == "fail"
    ]
    assert disagreements == []
    # and the chain is whole again
    assert doctor()[0] == 0


# ----------------------------------------------------------------------------- plan mode
def _plan_json(demo: Any, tmp: Any, name: str) -> str:
    _changes, plan_file = demo.terraform.plan(out=f"{name}.tfplan")
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(demo.terraform.show_json(plan_file)), encoding="utf-8")
    return str(path)


def _offline_doctor(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, dict[str, Any]]:
    # Nothing listens there: any AWS call the doctor made would fail.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://127.0.0.1:9")
    result = CliRunner().invoke(app, ["doctor", "--json", *args])
    return result.exit_code, json.loads(result.stdout)


def test_plan_of_the_intact_infra_passes_offline(
    demo: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan_json(demo, tmp_path, "intact")
    code, document = _offline_doctor(monkeypatch, "--plan", plan)
    assert [r for r in document["rows"] if r["verdict"] in ("fail", "unknown")] == []
    assert code == 0


def test_plan_of_a_change_that_drops_put_fails_link_4_before_deploying(
    demo: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = demo.terraform.root / "modules" / "target-account" / "main.tf"
    original = module.read_text(encoding="utf-8")
    granted = 'actions   = ["s3:GetObject", "s3:PutObject"]'
    assert granted in original
    module.write_text(original.replace(granted, 'actions   = ["s3:GetObject"]'), encoding="utf-8")
    try:
        plan = _plan_json(demo, tmp_path, "broken")
    finally:
        module.write_text(original, encoding="utf-8")
    code, document = _offline_doctor(monkeypatch, "--plan", plan)
    bad = [r for r in document["rows"] if r["verdict"] in ("fail", "unknown")]
    assert [r["id"] for r in bad] == ["4.put"], bad
    assert "module.target.aws_iam_role_policy.access" in bad[0]["fix"]
    assert code == 1


# ----------------------------------------------------------------------------- read-only
BOOTSTRAP = __import__("pathlib").Path(__file__).resolve().parents[2] / "infra" / "bootstrap"


def test_the_shipped_read_only_policies_are_enough(
    demo: Any, env: dict[str, str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user in A with exactly doctor-read-only-account-a.json, assuming a role in B with
    exactly doctor-read-only-account-b.json, diagnoses the whole chain."""
    policy_a = (BOOTSTRAP / "doctor-read-only-account-a.json").read_text(encoding="utf-8")
    policy_b = (BOOTSTRAP / "doctor-read-only-account-b.json").read_text(encoding="utf-8")
    iam_a = session("account-a").client("iam")
    # The deploy role (account-b) may create role B only (infra/bootstrap/): B's
    # administrator makes the doctor's role, straight into the emulator's state.
    from moto.iam.models import iam_backends

    iam_b = iam_backends[B]["global"]
    iam_a.create_user(UserName="doctor")
    iam_a.put_user_policy(UserName="doctor", PolicyName="read-only", PolicyDocument=policy_a)
    key = iam_a.create_access_key(UserName="doctor")["AccessKey"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"AWS": f"arn:aws:iam::{A}:user/doctor"},
            }
        ],
    }
    moto_role("crosstrack-doctor", json.dumps(trust), account=B)
    iam_b.put_role_policy("crosstrack-doctor", "read-only", policy_b)
    common = (
        f"region = us-east-1\nendpoint_url = {env['AWS_ENDPOINT_URL']}\n"
        f"ca_bundle = {env['AWS_CA_BUNDLE']}\ns3 =\n    addressing_style = path\n"
    )
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text(
        f"[profile doctor-a]\n{common}\n[profile doctor-b]\n"
        f"role_arn = arn:aws:iam::{B}:role/crosstrack-doctor\nsource_profile = doctor-a\n{common}",
        encoding="utf-8",
    )
    credentials.write_text(
        f"[doctor-a]\naws_access_key_id = {key['AccessKeyId']}\n"
        f"aws_secret_access_key = {key['SecretAccessKey']}\n",
        encoding="utf-8",
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    read_only_run = ["doctor", "--json", "--profile-a", "doctor-a", "--profile-b", "doctor-b"]
    read_only_run += ["--function", demo.deployment.function_name]
    try:
        result = CliRunner().invoke(app, read_only_run)
        document = json.loads(result.stdout)
        unknown = [r for r in document["rows"] if r["verdict"] in ("fail", "unknown")]
        assert unknown == []
        assert result.exit_code == 0
        # and without the B policy, rows say which permission is missing instead of crashing
        iam_b.delete_role_policy("crosstrack-doctor", "read-only")
        result = CliRunner().invoke(app, read_only_run)
        document = json.loads(result.stdout)
        unknown = {r["id"]: r["evidence"] for r in document["rows"] if r["verdict"] == "unknown"}
        assert "3.trust" in unknown
        assert "iam:GetRole denied" in unknown["3.trust"]
        assert result.exit_code == 1
    finally:
        for p in iam_b.list_role_policies("crosstrack-doctor"):
            iam_b.delete_role_policy("crosstrack-doctor", p)
        iam_b.delete_role("crosstrack-doctor")
        iam_a.delete_access_key(UserName="doctor", AccessKeyId=key["AccessKeyId"])
        iam_a.delete_user_policy(UserName="doctor", PolicyName="read-only")
        iam_a.delete_user(UserName="doctor")


# ----------------------------------------------------------------------------- probe
def _trust_operator_too(demo: Any) -> Restore:
    """Let the operator assume role A as well (so --probe can take the reporter's steps)."""
    iam = session("account-a").client("iam")
    operator = session("account-a").client("sts").get_caller_identity()["Arn"]
    saved = iam.get_role(RoleName="connect-to-bridge")["Role"]["AssumeRolePolicyDocument"]
    extra = {
        "Sid": "OperatorProbes",
        "Effect": "Allow",
        "Principal": {"AWS": operator},
        "Action": "sts:AssumeRole",
    }
    iam.update_assume_role_policy(
        RoleName="connect-to-bridge",
        PolicyDocument=json.dumps({**saved, "Statement": [*saved["Statement"], extra]}),
    )
    return lambda: iam.update_assume_role_policy(
        RoleName="connect-to-bridge", PolicyDocument=json.dumps(saved)
    )


def _get_denied(demo: Any) -> Restore:
    return _deny_in_bucket_policy(demo, "NoReads", "s3:GetObject")


def _unbind_role_a_from_the_function(demo: Any) -> Restore:
    """Drop the lambda:SourceFunctionArn condition, so the caller's role A session may
    assume role B too and --probe can take every step (and compare its prediction)."""

    def edit(statements: list[Any]) -> list[Any]:
        for s in statements:
            if s.get("Sid") == ASSUME_B_SID:
                del s["Condition"]
        return statements

    return _role_policy("account-a", "connect-to-bridge", "assume-target-role-and-log", edit)


def test_probe_of_the_function_bound_chain_says_not_comparable(
    demo: Any, env: dict[str, str]
) -> None:
    """Role B is bound to the reporter function: the operator's role A session is refused
    role B by design. That is no disagreement, and the later steps stay predictions."""
    restore_trust = _trust_operator_too(demo)
    try:
        code, document, _ = doctor("--probe")
    finally:
        restore_trust()
    probes = {r["id"]: r for r in document["rows"] if r["id"].startswith("probe.")}
    assert set(probes) == {"probe.assume-a", "probe.assume-b"}, probes
    assert all(r["verdict"] == "pass" for r in probes.values()), probes
    evidence = probes["probe.assume-b"]["evidence"]
    assert "not comparable" in evidence
    assert "lambda:SourceFunctionArn" in evidence
    assert "AccessDenied" in evidence
    assert "Links 4-5 stay predictions" in evidence
    assert code == 0


def test_probe_takes_the_real_steps_and_agrees(demo: Any, env: dict[str, str]) -> None:
    restore_trust = _trust_operator_too(demo)
    restore_binding = _unbind_role_a_from_the_function(demo)
    try:
        code, document, _ = doctor("--probe")
        probes = {r["id"]: r for r in document["rows"] if r["id"].startswith("probe.")}
        assert set(probes) == {"probe.assume-a", "probe.assume-b", "probe.head"}, probes
        assert all(r["verdict"] == "pass" for r in probes.values()), probes
        assert "predicted allowed" in probes["probe.assume-b"]["evidence"]
        assert "observed allowed" in probes["probe.assume-b"]["evidence"]
        assert code == 0
        restore = _get_denied(demo)
        try:
            code, document, _ = doctor("--probe")
        finally:
            restore()
        rows = {r["id"]: r for r in document["rows"]}
        assert rows["5.bucket"]["verdict"] == "fail"
        assert rows["probe.head"]["verdict"] == "pass"  # both say denied
        assert "predicted denied" in rows["probe.head"]["evidence"]
        assert (
            "observed 403" in rows["probe.head"]["evidence"]
            or "Forbidden" in rows["probe.head"]["evidence"]
        )
    finally:
        restore_binding()
        restore_trust()
