"""`crosstrack doctor chain --policies DIR` on three of the original post's other scenarios,
each intact and broken at a different hop: exactly the broken row fails, naming principal and
resource. Files are written exactly as the aws-cli prints them (policy_dirs.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.unit.doctor.policy_dirs import (
    A,
    B,
    C,
    PolicyDirWriter,
    allow,
    doc,
    role_arn,
    trust,
)
from typer.testing import CliRunner

from crosstrack.cli import app

EC2_ROLE, READER = role_arn(A, "ec2-app"), role_arn(B, "orders-reader")
TABLE = f"arn:aws:dynamodb:us-east-1:{B}:table/orders"
SFN_ROLE = role_arn(A, "orchestrator")
FUNCTION = f"arn:aws:lambda:us-east-1:{B}:function:billing-step"
SHIPPER, ARCHIVE_WRITER = role_arn(A, "log-shipper"), role_arn(C, "archive-writer")
HUB = role_arn(B, "logging-hub")
LOG_OBJECT = "arn:aws:s3:::central-logs-333/app/2025/01/01.log"


def run(*args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(app, ["doctor", "chain", "--json", *args])
    try:
        return result.exit_code, json.loads(result.stdout), result.stderr
    except ValueError:
        raise AssertionError(result.output) from None


def failing(document: dict[str, Any]) -> list[str]:
    return [r["id"] for r in document["rows"] if r["verdict"] != "pass"]


def row(document: dict[str, Any], id_: str) -> dict[str, Any]:
    return next(r for r in document["rows"] if r["id"] == id_)


# ------------------------------------------------------------------ EC2 -> role in B -> DynamoDB
def ec2_dynamo(root: Path, *, trusted: str = EC2_ROLE) -> list[str]:
    w = PolicyDirWriter(root)
    w.role(A, "ec2-app", trust({"Service": "ec2.amazonaws.com"}),
           inline={"assume-reader": doc(allow("sts:AssumeRole", READER))})  # fmt: skip
    # B's trust as the raw IAM API gives it (URL-encoded), its permission a managed policy
    w.role(B, "orders-reader", trust({"AWS": trusted}), url_encoded=True,
           attached={"read-orders": doc(
               allow(["dynamodb:GetItem", "dynamodb:Query"], TABLE))})  # fmt: skip
    w.policy_string(B, "dynamodb.get-resource-policy.orders.json", None)
    return ["--principal", EC2_ROLE, "--via", READER, "--action", "dynamodb:GetItem",
            "--resource", TABLE, "--policies", str(root)]  # fmt: skip


def test_ec2_to_dynamodb_intact(tmp_path: Path) -> None:
    code, document, _ = run(*ec2_dynamo(tmp_path))
    assert failing(document) == []
    assert code == 0
    assert document["ok"] is True
    ids = [r["id"] for r in document["rows"]]
    assert ids == ["hop1.assume", "hop1.trust", "hop1.duration", "final.identity", "final.resource"]
    assert row(document, "final.identity")["statement"]["policy"].startswith("read-orders")


def test_ec2_to_dynamodb_broken_trust(tmp_path: Path) -> None:
    code, document, _ = run(*ec2_dynamo(tmp_path, trusted=role_arn(A, "someone-else")))
    assert failing(document) == ["hop1.trust"]
    assert code == 1
    broken = row(document, "hop1.trust")
    assert broken["principal"] == f"arn:aws:sts::{A}:assumed-role/ec2-app/crosstrack-doctor"
    assert broken["resource"] == READER
    assert broken["link"] == 1
    assert READER in broken["fix"]


# ------------------------------------------------------------------ Step Functions -> Lambda in B
def sfn_lambda(root: Path, *, allowed_account: str = A) -> list[str]:
    w = PolicyDirWriter(root)
    w.role(A, "orchestrator", trust({"Service": "states.amazonaws.com"}),
           inline={"invoke": doc(
               allow("lambda:InvokeFunction", [FUNCTION, FUNCTION + ":*"]))})  # fmt: skip
    w.policy_string(B, "lambda.get-policy.billing-step.json", doc({
        "Sid": "FromOrchestrator", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{allowed_account}:root"},
        "Action": "lambda:InvokeFunction", "Resource": FUNCTION,
    }))  # fmt: skip
    return ["--principal", SFN_ROLE, "--action", "lambda:InvokeFunction", "--resource",
            FUNCTION, "--policies", str(root)]  # fmt: skip


def test_step_functions_to_cross_account_lambda_intact(tmp_path: Path) -> None:
    code, document, _ = run(*sfn_lambda(tmp_path))
    assert failing(document) == []
    assert code == 0
    assert row(document, "final.resource")["statement"]["sid"] == "FromOrchestrator"


def test_step_functions_function_policy_for_another_account_fails_final_resource(
    tmp_path: Path,
) -> None:
    code, document, _ = run(*sfn_lambda(tmp_path, allowed_account=C))
    assert failing(document) == ["final.resource"]
    assert code == 1
    broken = row(document, "final.resource")
    assert broken["principal"] == f"arn:aws:sts::{A}:assumed-role/orchestrator/crosstrack-doctor"
    assert broken["resource"] == FUNCTION
    assert "lambda get-policy" in broken["fix"]


# ------------------------------------------------------------- central logging: A -> B -> C -> S3
def central_logging(
    root: Path, *, writer_may_put: bool = True, max_session: int = 3600
) -> list[str]:
    w = PolicyDirWriter(root)
    w.role(A, "log-shipper", trust({"Service": "lambda.amazonaws.com"}),
           inline={"hub": doc(allow("sts:AssumeRole", HUB))})  # fmt: skip
    w.role(B, "logging-hub", trust({"AWS": SHIPPER}),
           inline={"archive": doc(allow("sts:AssumeRole", ARCHIVE_WRITER))})  # fmt: skip
    action = "s3:PutObject" if writer_may_put else "s3:GetObject"
    w.role(C, "archive-writer",
           trust({"AWS": HUB}, Condition={"StringEquals": {"sts:ExternalId": "log-archive"}}),
           inline={"write": doc(allow(action, "arn:aws:s3:::central-logs-333/app/*"))},
           max_session=max_session)  # fmt: skip
    w.policy_string(C, "get-bucket-policy.central-logs-333.json", doc({
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::central-logs-333", "arn:aws:s3:::central-logs-333/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }))  # fmt: skip
    return ["--principal", SHIPPER, "--via", HUB, "--via", ARCHIVE_WRITER,
            "--external-id", f"{ARCHIVE_WRITER}=log-archive", "--action", "s3:PutObject",
            "--resource", LOG_OBJECT, "--resource-account", C, "--policies", str(root)]  # fmt: skip


def test_central_logging_two_hops_intact(tmp_path: Path) -> None:
    code, document, _ = run(*central_logging(tmp_path))
    assert failing(document) == []
    assert code == 0
    assert {r["link"] for r in document["rows"]} == {1, 2, 3}


def test_central_logging_writer_without_put_fails_final_identity(tmp_path: Path) -> None:
    code, document, _ = run(*central_logging(tmp_path, writer_may_put=False))
    assert failing(document) == ["final.identity"]
    assert code == 1
    broken = row(document, "final.identity")
    assert broken["principal"] == f"arn:aws:sts::{C}:assumed-role/archive-writer/crosstrack-doctor"
    assert broken["resource"] == LOG_OBJECT
    assert broken["action"] == "s3:PutObject"


def test_central_logging_without_external_id_fails_the_second_trust(tmp_path: Path) -> None:
    args = central_logging(tmp_path)
    i = args.index("--external-id")
    del args[i : i + 2]
    code, document, _ = run(*args)
    assert failing(document) == ["hop2.trust"]
    assert "--external-id" in row(document, "hop2.trust")["evidence"]
    assert code == 1


def test_role_chaining_caps_the_second_hop_at_one_hour(tmp_path: Path) -> None:
    args = central_logging(tmp_path, max_session=43200)
    code, document, _ = run(*args, "--duration", "7200")
    # hop1 is role chaining too (a Lambda role's session assumes the hub, max 3600)
    assert failing(document) == ["hop1.duration", "hop2.duration"]
    assert "role chaining" in row(document, "hop2.duration")["evidence"]
    assert code == 1


def test_the_shipper_without_assume_permission_fails_hop1_assume(tmp_path: Path) -> None:
    args = central_logging(tmp_path)
    PolicyDirWriter(tmp_path).write(A, "get-role-policy.log-shipper.hub.json", {
        "RoleName": "log-shipper", "PolicyName": "hub",
        "PolicyDocument": doc(allow("sts:AssumeRole", role_arn(B, "another-hub")))})  # fmt: skip
    code, document, _ = run(*args)
    assert failing(document) == ["hop1.assume"]
    assert row(document, "hop1.assume")["resource"] == HUB
    assert code == 1


# ------------------------------------------------------------------ unreadable input
def test_a_missing_file_is_an_unknown_row_naming_the_file_and_command(tmp_path: Path) -> None:
    args = ec2_dynamo(tmp_path)
    (tmp_path / B / "get-role.orders-reader.json").unlink()
    code, document, _ = run(*args)
    assert code == 1
    unknown = [r for r in document["rows"] if r["verdict"] == "unknown"]
    # get-role also names the permissions boundary, which limits the role's final request
    assert {r["id"] for r in unknown} == {"hop1.trust", "hop1.duration", "final.identity"}
    evidence = row(document, "hop1.trust")["evidence"]
    assert "get-role.orders-reader.json" in evidence
    assert "aws iam get-role --role-name orders-reader" in evidence


def test_a_missing_resource_policy_file_is_unknown(tmp_path: Path) -> None:
    args = sfn_lambda(tmp_path)
    (tmp_path / B / "lambda.get-policy.billing-step.json").unlink()
    code, document, _ = run(*args)
    assert code == 1
    assert row(document, "final.resource")["verdict"] == "unknown"
    assert "lambda.get-policy.billing-step.json" in row(document, "final.resource")["evidence"]


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not readable JSON"), ("[]", "expected the JSON object"),
     ('{"RoleName": "x"}', "no PolicyDocument"),
     ('{"PolicyDocument": {"Statement": [{"Effect": "Maybe"}]}}', "not a valid policy")],
)  # fmt: skip
def test_a_malformed_file_exits_2_naming_it(tmp_path: Path, content: str, message: str) -> None:
    args = ec2_dynamo(tmp_path)
    bad = tmp_path / A / "get-role-policy.ec2-app.assume-reader.json"
    bad.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(app, ["doctor", "chain", *args])
    assert result.exit_code == 2, result.output
    assert str(bad) in result.stderr
    assert message in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    for args in (
        ["--principal", "bob", "--via", READER, "--policies", str(tmp_path)],
        ["--principal", EC2_ROLE, "--via", TABLE, "--policies", str(tmp_path)],
        ["--principal", EC2_ROLE, "--action", "s3:GetObject", "--policies", str(tmp_path)],
        ["--principal", EC2_ROLE, "--via", READER],  # no source
    ):
        result = CliRunner().invoke(app, ["doctor", "chain", *args])
        assert result.exit_code == 2, (args, result.output)


def test_mermaid_and_svg_draw_every_hop(tmp_path: Path) -> None:
    args = ec2_dynamo(tmp_path, trusted=role_arn(A, "someone-else"))
    result = CliRunner().invoke(app, ["doctor", "chain", "--mermaid", *args])
    assert result.exit_code == 1
    assert f"account {A}" in result.stdout
    assert '-->|"✗ 1 sts:AssumeRole"|' in result.stdout
    assert '-->|"✓ 2 dynamodb:GetItem"|' in result.stdout
    svg = tmp_path / "chain.svg"
    CliRunner().invoke(app, ["doctor", "chain", "--json", "--diagram", str(svg), *args])
    assert svg.read_text().count("<line ") == 2


# ------------------------------------------------------------------ explain --policies
def explain(*args: str) -> Any:
    return CliRunner().invoke(app, ["doctor", "explain", *args])


def test_explain_a_denied_assume_role_checks_that_hop(tmp_path: Path) -> None:
    ec2_dynamo(tmp_path, trusted=role_arn(A, "someone-else"))
    message = (
        "An error occurred (AccessDenied) when calling the AssumeRole operation: User: "
        f"arn:aws:sts::{A}:assumed-role/ec2-app/i-0abc123 is not authorized to perform: "
        f"sts:AssumeRole on resource: {READER}"
    )
    result = explain(message, "--policies", str(tmp_path), "--json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert failing(document) == ["hop1.trust"]
    assert (
        row(document, "hop1.trust")["principal"]
        == f"arn:aws:sts::{A}:assumed-role/ec2-app/i-0abc123"
    )


def test_explain_a_lambda_denial_checks_the_function_policy(tmp_path: Path) -> None:
    sfn_lambda(tmp_path, allowed_account=C)
    message = (
        f"User: arn:aws:sts::{A}:assumed-role/orchestrator/exec-1 is not authorized to perform: "
        f"lambda:InvokeFunction on resource: {FUNCTION} because no resource-based policy "
        "allows the lambda:InvokeFunction action"
    )
    result = explain(message, "--policies", str(tmp_path), "--json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert failing(document) == ["final.resource"]
    assert row(document, "final.resource")["resource"] == FUNCTION
    # and once the policy names account A, the same message finds nothing broken
    sfn_lambda(tmp_path)
    assert explain(message, "--policies", str(tmp_path), "--json").exit_code == 0


def test_explain_policies_needs_the_principal_in_the_message(tmp_path: Path) -> None:
    message = (
        "upload failed: ./x to s3://central-logs-333/app/x An error occurred (AccessDenied) "
        "when calling the PutObject operation: Access Denied"
    )
    result = explain(message, "--policies", str(tmp_path))
    assert result.exit_code == 2
    assert "doctor chain --principal" in result.stderr
