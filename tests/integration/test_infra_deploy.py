"""infra/ deployed into the local two-account AWS, with IAM enforced from the first call.

One deployment per module (``deployment``): ``terraform apply`` of the real infra/ (a copy
with an endpoint override; crosstrack.local.run.terraform) with account A reached through the
operator's key and account B only through B's ``terraform`` role. Then, in order:

* each account holds its own resources and nothing of the other's; the bucket is encrypted
  with the customer managed KMS key (``bucket_kms_key_enabled``: the one apply and destroy
  with SSE-KMS, through the deploy role of infra/bootstrap/, whose KMS rights hang on the
  key's ``crosstrack-deploy`` tag);
* the security properties of issue 5, decided by crosstrack.iam on the policies of a real
  plan (``terraform show -json``: the documents as the emulator stores them);
* the reporter, with role A's credentials obtained as the Lambda service obtains them,
  appends a record to the log in account B through the real chain;
* a re-plan shows no changes, and applying again after records exist leaves the log object
  byte-identical (field-notes.md, defect 1);
* destroy; the timings of every step are printed.

Nothing here reaches beyond 127.0.0.1: the reporter is configured with the offline TLE
source only, and the Lambda zip is the slim one (the emulator never runs it; the reporter
runs in a subprocess here, exactly as packaged code would import it from src/).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from crosstrack.iam import simulate
from crosstrack.local.run.terraform import TerraformRun, find_terraform
from crosstrack.logbook.source import location_from_outputs

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
A, B = "111111111111", "222222222222"
REGION = "us-east-1"
TERRAFORM = find_terraform()

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.slow,
    pytest.mark.skipif(
        TERRAFORM is None,
        reason="terraform is not installed (not on PATH, CROSSTRACK_TERRAFORM unset)",
    ),
]


@dataclass
class Deployment:
    aws: Any  # crosstrack.local.LocalAWS
    run: TerraformRun
    outputs: dict[str, Any]
    state: dict[str, Any]
    destroyed: bool = False
    notes: dict[str, Any] = field(default_factory=dict)

    def resource(self, address: str) -> dict[str, Any]:
        for res in _resources(self.state["values"]["root_module"]):
            if res["address"] == address:
                values: dict[str, Any] = res["values"]
                return values
        raise KeyError(address)

    def client(self, service: str, **credentials: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.aws.endpoint,
            verify=str(self.aws.ca_bundle),
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
            **credentials,
        )

    def operator(self, service: str) -> Any:
        return self.client(
            service,
            aws_access_key_id=self.aws.operator.access_key_id,
            aws_secret_access_key=self.aws.operator.secret_access_key,
        )

    def assume(self, role_arn: str, via: Mapping[str, str], **extra: str) -> dict[str, str]:
        creds = self.client("sts", **via).assume_role(
            RoleArn=role_arn, RoleSessionName="crosstrack-test", **extra
        )["Credentials"]
        return {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }

    def terraform_role(self, service: str) -> Any:
        operator = {
            "aws_access_key_id": self.aws.operator.access_key_id,
            "aws_secret_access_key": self.aws.operator.secret_access_key,
        }
        return self.client(service, **self.assume(f"arn:aws:iam::{B}:role/terraform", operator))

    def role_a_credentials(self) -> dict[str, str]:
        """Role A's session, obtained as the Lambda service obtains it for the function
        (trust checked; the session carries lambda:SourceFunctionArn)."""
        from crosstrack.local.run.lambda_runner import function_credentials, read_function

        config = read_function(self.outputs["function_name"], account=A)
        creds = function_credentials(self.aws, config)
        return {
            "aws_access_key_id": creds.access_key_id,
            "aws_secret_access_key": creds.secret_access_key,
            "aws_session_token": creds.session_token,
        }

    def read_log(self) -> dict[str, Any]:
        """The log object as role B sees it, reached through the chain A -> B."""
        role_b = self.assume(self.outputs["target_role_arn"], self.role_a_credentials())
        got = self.client("s3", **role_b).get_object(
            Bucket=self.outputs["bucket_name"], Key="iss_position.txt"
        )
        return {
            "body": got["Body"].read(),
            "etag": got["ETag"],
            "version": got.get("VersionId"),
            "content_type": got.get("ContentType"),
        }

    def invoke_reporter(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Run the handler as Lambda would: deployed environment, role A's credentials."""
        function = self.resource("module.source.aws_lambda_function.this")
        creds = self.role_a_credentials()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(function["environment"][0]["variables"])
        env.update(
            {
                "AWS_ACCESS_KEY_ID": creds["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
                "AWS_SESSION_TOKEN": creds["aws_session_token"],
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ENDPOINT_URL": self.aws.endpoint,
                "AWS_CA_BUNDLE": str(self.aws.ca_bundle),
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_LAMBDA_FUNCTION_NAME": function["function_name"],
            }
        )
        code = (
            "import json, sys\n"
            "from crosstrack.reporter.handler import lambda_handler\n"
            "result = lambda_handler(json.loads(sys.argv[1]), None)\n"
            "print('RESULT ' + json.dumps(result, default=str))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(dict(event))],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
        result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
        return result


def _resources(module: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _resources(child)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from crosstrack.local import LocalAWS
    from crosstrack.packaging import Target, build_lambda_zip

    work = tmp_path_factory.mktemp("infra-deploy")
    # The emulator stores the code but never runs it: the slim zip keeps uploads small.
    zip_path = build_lambda_zip(
        work / "lambda.zip",
        target=Target("3.12", "arm64"),
        sdk=False,
        lock=ROOT / "requirements" / "lambda.lock",
    ).path
    aws = LocalAWS(work / "aws").start()
    run = TerraformRun.for_local(
        aws,
        INFRA,
        work / "terraform",
        variables={
            "lambda_zip_path": str(zip_path),
            # Test-only: destroy must succeed after the reporter has written.
            "bucket_force_destroy": True,
            # No network beyond 127.0.0.1: the offline SGP4 source only, whose bundled TLE
            # is older than the default MAX_TLE_AGE_DAYS.
            "iss_sources": ["tle"],
            "max_tle_age_days": 36500,
            # The one apply/destroy with SSE-KMS (the demo covers SSE-S3).
            "bucket_kms_key_enabled": True,
        },
        plugin_cache=tmp_path_factory.getbasetemp() / "tf-plugin-cache",
        terraform=TERRAFORM,
    )
    dep: Deployment | None = None
    try:
        run.init()
        run.apply()
        dep = Deployment(aws=aws, run=run, outputs=run.outputs(), state=run.show_json())
        yield dep
    finally:
        try:
            if dep is None or not dep.destroyed:
                run.destroy()
        finally:
            aws.stop()


# ------------------------------------------------------------------------- accounts


def test_each_account_holds_its_own_resources(deployment: Deployment) -> None:
    out = deployment.outputs
    assert out["source_role_arn"] == f"arn:aws:iam::{A}:role/connect-to-bridge"
    assert out["target_role_arn"] == f"arn:aws:iam::{B}:role/access-s3-bucket"
    assert out["bucket_name"].startswith("iss-reporting-")
    assert out["function_name"] == "write-report-to-crossaccount-s3"
    assert out["log_group_name"] == "/aws/lambda/write-report-to-crossaccount-s3"
    # Where `crosstrack log --infra` finds the log: named by outputs, not parsed from a command.
    assert (out["object_key"], out["log_layout"], out["log_format"]) == (
        "iss_position.txt",
        "single",
        "text",
    )
    assert location_from_outputs(out) == (out["bucket_name"], "iss_position.txt", "single")

    iam_a = deployment.operator("iam")
    iam_b = deployment.terraform_role("iam")
    assert iam_a.get_role(RoleName="connect-to-bridge")["Role"]["Arn"] == out["source_role_arn"]
    role_b = iam_b.get_role(RoleName="access-s3-bucket")["Role"]
    assert role_b["Arn"] == out["target_role_arn"]
    # Bounded by the bootstrap's policy: the only boundary the deploy role may set on it.
    assert role_b["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
        f"arn:aws:iam::{B}:policy/crosstrack-target-role-boundary"
    )
    with pytest.raises(ClientError) as err:
        iam_a.get_role(RoleName="access-s3-bucket")
    assert err.value.response["Error"]["Code"] == "NoSuchEntity"
    # The deploy role may not even read another role of B (infra/bootstrap/), so B's
    # roles are listed from the emulator's state, as B's administrator would see them.
    with pytest.raises(ClientError) as err:
        iam_b.get_role(RoleName="connect-to-bridge")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    from moto.iam.models import iam_backends

    assert sorted(r.name for r in iam_backends[B]["global"].roles.values()) == [
        "access-s3-bucket",
        "terraform",
    ]

    buckets_b = [b["Name"] for b in deployment.terraform_role("s3").list_buckets()["Buckets"]]
    buckets_a = [b["Name"] for b in deployment.operator("s3").list_buckets()["Buckets"]]
    assert out["bucket_name"] in buckets_b
    assert out["bucket_name"] not in buckets_a

    function = deployment.operator("lambda").get_function_configuration(
        FunctionName=out["function_name"]
    )
    assert function["Role"] == out["source_role_arn"]
    assert function["Handler"] == "crosstrack.reporter.handler.lambda_handler"
    assert function["Timeout"] == 30
    assert function["Environment"]["Variables"]["ACCOUNT2_ROLE_ARN"] == out["target_role_arn"]
    groups = deployment.operator("logs").describe_log_groups(
        logGroupNamePrefix=out["log_group_name"]
    )["logGroups"]
    assert [g.get("retentionInDays") for g in groups] == [365]

    schedule = deployment.operator("scheduler").get_schedule(Name=out["schedule_name"])
    assert schedule["ScheduleExpression"] == "rate(5 minutes)"
    assert schedule["Target"]["Arn"] == function["FunctionArn"]
    # Scheduler substitutes its context attributes in the raw text: exactly design.md's.
    assert schedule["Target"]["Input"] == (
        '{"schedule_arn":"<aws.scheduler.schedule-arn>",'
        '"scheduled_time":"<aws.scheduler.scheduled-time>",'
        '"execution_id":"<aws.scheduler.execution-id>"}'
    )
    assert function["Environment"]["Variables"]["MAX_TLE_AGE_DAYS"] == "36500"

    s3_b = deployment.terraform_role("s3")
    bucket = out["bucket_name"]
    assert s3_b.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3_b.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert len(block) == 4
    rules = s3_b.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    sse = s3_b.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    default = sse["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    key_arn = deployment.resource("module.target.aws_kms_key.log[0]")["arn"]
    assert default["KMSMasterKeyID"] == key_arn
    tags = deployment.terraform_role("kms").list_resource_tags(KeyId=key_arn)["Tags"]
    assert {"TagKey": "crosstrack-deploy", "TagValue": "iss-reporting-"} in tags

    # Field-notes defect 1: nothing in Terraform owns the log object.
    addresses = [r["address"] for r in _resources(deployment.state["values"]["root_module"])]
    assert not [a for a in addresses if ".aws_s3_object." in a]


def test_the_deploy_role_touches_only_keys_tagged_as_its_own(deployment: Deployment) -> None:
    """aws:RequestTag / aws:ResourceTag decided by the local AWS on real requests."""
    from moto.kms.models import kms_backends

    # A key of account B's administrators, made outside the deploy role (no tag).
    foreign = kms_backends[B][REGION].create_key(
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            }
        ),
        key_usage="ENCRYPT_DECRYPT",
        key_spec="SYMMETRIC_DEFAULT",
        description="someone else's key",
        tags=None,
    )
    kms = deployment.terraform_role("kms")
    session = f"arn:aws:sts::{B}:assumed-role/terraform/crosstrack-test"
    for call in (
        lambda: kms.schedule_key_deletion(KeyId=foreign.arn, PendingWindowInDays=7),
        lambda: kms.tag_resource(
            KeyId=foreign.arn, Tags=[{"TagKey": "crosstrack-deploy", "TagValue": "iss-reporting-"}]
        ),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "AccessDeniedException"
        assert err.value.response["Error"]["Message"].startswith(
            f"User: {session} is not authorized"
        )
    with pytest.raises(ClientError) as err:
        kms.create_key(Description="untagged")
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert kms_backends[B][REGION].describe_key(foreign.id).key_state == "Enabled"


# ------------------------------------------------------------- security, by crosstrack.iam


@pytest.fixture(scope="module")
def planned(deployment: Deployment) -> dict[str, Any]:
    """The policies of a real plan (prior state = what the emulator stores)."""
    changes, plan_file = deployment.run.plan("security.tfplan")
    deployment.notes["first_replan_changes"] = changes
    plan = deployment.run.show_json(plan_file)
    docs: dict[str, Any] = {}
    for res in _resources(plan["prior_state"]["values"]["root_module"]):
        docs[res["address"]] = res["values"]
    return docs


def _policy(planned: Mapping[str, Any], address: str, attribute: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(planned[address][attribute])
    return document


def _decide(**case: Any) -> str:
    decision = simulate(case)["decision"]
    assert isinstance(decision, str)
    return decision


def _session(role: str, account: str = A) -> dict[str, str]:
    return {
        "principal": f"arn:aws:sts::{account}:assumed-role/{role}/crosstrack-test",
        "principal_arn": f"arn:aws:iam::{account}:role/{role}",
    }


def test_only_lambda_in_account_a_may_become_role_a(planned: Mapping[str, Any]) -> None:
    trust = _policy(planned, "module.source.aws_iam_role.execution", "assume_role_policy")
    role_a = f"arn:aws:iam::{A}:role/connect-to-bridge"

    def by(principal: str, source_account: str | None) -> str:
        context = {} if source_account is None else {"aws:SourceAccount": source_account}
        return _decide(
            request={
                "principal": principal,
                "action": "sts:AssumeRole",
                "resource": role_a,
                "context": context,
            },
            resource_policy=trust,
        )

    assert by("lambda.amazonaws.com", A) == "allowed"
    assert by("lambda.amazonaws.com", "333333333333") == "implicitDeny"  # confused deputy
    assert by("lambda.amazonaws.com", None) == "implicitDeny"
    assert by("ec2.amazonaws.com", A) == "implicitDeny"  # field-notes defect 4


def test_role_a_may_assume_role_b_and_nothing_else(planned: Mapping[str, Any]) -> None:
    identity = [
        _policy(planned, f"module.source.aws_iam_role_policy.{name}", "policy")
        for name in ("execution", "failures")
    ]
    trust_b = _policy(planned, "module.target.aws_iam_role.this", "assume_role_policy")
    role_b = f"arn:aws:iam::{B}:role/access-s3-bucket"
    bucket = planned["module.target.aws_s3_bucket.log"]["bucket"]
    reporter = planned["module.source.aws_lambda_function.this"]["arn"]

    def ask(
        action: str,
        resource: str,
        resource_policy: Any = None,
        account: str = B,
        function: str | None = reporter,
    ) -> str:
        context = {"aws:SecureTransport": "true"}
        if function is not None:
            context["lambda:SourceFunctionArn"] = function
        return _decide(
            request={
                **_session("connect-to-bridge"),
                "action": action,
                "resource": resource,
                "resource_account": account,
                "context": context,
            },
            identity_policies=identity,
            resource_policy=resource_policy,
        )

    assert ask("sts:AssumeRole", role_b, trust_b) == "allowed"
    # Only from inside the reporter: another function with role A, or role A assumed any
    # other way (no lambda:SourceFunctionArn), is refused by role A's own policy.
    other_function = reporter.replace("write-report-to-crossaccount-s3", "other")
    assert ask("sts:AssumeRole", role_b, trust_b, function=other_function) == "implicitDeny"
    assert ask("sts:AssumeRole", role_b, trust_b, function=None) == "implicitDeny"
    # Any other role, in B or anywhere, is refused by role A's own policy.
    for other in (
        f"arn:aws:iam::{B}:role/terraform",
        f"arn:aws:iam::{B}:role/access-s3-bucket-2",
        f"arn:aws:iam::{A}:role/connect-to-bridge",
        "arn:aws:iam::333333333333:role/access-s3-bucket",
    ):
        assert ask("sts:AssumeRole", other, account=other.split(":")[4]) == "implicitDeny", other
    # Role A itself touches nothing in B.
    assert ask("s3:GetObject", f"arn:aws:s3:::{bucket}/iss_position.txt") == "implicitDeny"
    assert ask("iam:PassRole", role_b) == "implicitDeny"


def test_only_role_a_may_assume_role_b(planned: Mapping[str, Any]) -> None:
    trust_b = _policy(planned, "module.target.aws_iam_role.this", "assume_role_policy")
    role_b = f"arn:aws:iam::{B}:role/access-s3-bucket"
    allow_all = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }

    def by(principal: Mapping[str, str]) -> str:
        return _decide(
            request={**principal, "action": "sts:AssumeRole", "resource": role_b},
            # The root user has every permission and no identity policies.
            identity_policies=[] if principal["principal"].endswith(":root") else [allow_all],
            resource_policy=trust_b,
        )

    assert by(_session("connect-to-bridge")) == "allowed"
    for other in (
        _session("some-other-role"),
        _session("connect-to-bridge", account="333333333333"),
        _session("terraform", account=B),
        {"principal": f"arn:aws:iam::{A}:user/operator"},
        {"principal": f"arn:aws:iam::{A}:root"},
    ):
        assert by(other) != "allowed", other


def test_role_b_may_read_and_append_the_log_object_only(planned: Mapping[str, Any]) -> None:
    identity = _policy(planned, "module.target.aws_iam_role_policy.access", "policy")
    bucket_policy = _policy(planned, "module.target.aws_s3_bucket_policy.log", "policy")
    bucket = planned["module.target.aws_s3_bucket.log"]["bucket"]
    log = f"arn:aws:s3:::{bucket}/iss_position.txt"

    def ask(action: str, resource: str, **context: str) -> str:
        return _decide(
            request={
                **_session("access-s3-bucket", account=B),
                "action": action,
                "resource": resource,
                "resource_account": B,
                "context": {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3", **context},
            },
            identity_policies=[identity],
            resource_policy=bucket_policy,
        )

    assert ask("s3:GetObject", log) == "allowed"
    assert ask("s3:PutObject", log) == "allowed"
    # A missing log object must read as 404 (the first run creates it): S3 decides that
    # with s3:ListBucket on the bucket, no prefix involved.
    assert ask("s3:ListBucket", f"arn:aws:s3:::{bucket}") == "allowed"
    assert ask("s3:ListBucket", "arn:aws:s3:::another-bucket") == "implicitDeny"
    for action in ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl"):
        assert ask(action, log) == "implicitDeny", action
    for key in ("other.txt", "iss_position.txt.bak", "logs/iss_position.txt"):
        assert ask("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}") == "implicitDeny", key
        assert ask("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}") == "implicitDeny", key
    for action in ("s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutLifecycleConfiguration"):
        assert ask(action, f"arn:aws:s3:::{bucket}") == "implicitDeny", action


def test_non_tls_access_is_denied_by_the_bucket_policy(planned: Mapping[str, Any]) -> None:
    identity = _policy(planned, "module.target.aws_iam_role_policy.access", "policy")
    bucket_policy = _policy(planned, "module.target.aws_s3_bucket_policy.log", "policy")
    bucket = planned["module.target.aws_s3_bucket.log"]["bucket"]
    # Role B, and even account B's root user (who needs no identity policy).
    for who, policies in [
        (_session("access-s3-bucket", account=B), [identity]),
        ({"principal": f"arn:aws:iam::{B}:root"}, []),
    ]:
        result = simulate(
            {
                "request": {
                    **who,
                    "action": "s3:GetObject",
                    "resource": f"arn:aws:s3:::{bucket}/iss_position.txt",
                    "resource_account": B,
                    "context": {"aws:SecureTransport": "false"},
                },
                "identity_policies": policies,
                "resource_policy": bucket_policy,
            }
        )
        assert result["decision"] == "explicitDeny", result
    old_tls = _decide(
        request={
            **_session("access-s3-bucket", account=B),
            "action": "s3:PutObject",
            "resource": f"arn:aws:s3:::{bucket}/iss_position.txt",
            "resource_account": B,
            "context": {"aws:SecureTransport": "true", "s3:TlsVersion": "1.1"},
        },
        identity_policies=[identity],
        resource_policy=bucket_policy,
    )
    assert old_tls == "explicitDeny"


def test_no_allow_statement_uses_a_wildcard_action(planned: Mapping[str, Any]) -> None:
    checked = 0
    for address, values in planned.items():
        for attribute in ("policy", "assume_role_policy"):
            text = values.get(attribute)
            if not isinstance(text, str) or not text.startswith("{"):
                continue
            for statement in json.loads(text)["Statement"]:
                if statement["Effect"] != "Allow":
                    continue  # "s3:*" in the TLS Deny is how a deny must be written
                if address.endswith("aws_kms_key.log[0]") and statement.get("Sid") == (
                    "AccountAdministersTheKey"
                ):
                    # AWS's default key policy statement (kms:* for the account, delegating
                    # to IAM), kept so the key can never become unmanageable.
                    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{B}:root"}
                    continue
                checked += 1
                assert "NotAction" not in statement, address
                actions = statement["Action"]
                actions = [actions] if isinstance(actions, str) else actions
                assert not [a for a in actions if "*" in a], (address, actions)
    assert checked >= 8


def test_the_schedule_may_invoke_the_function_and_nothing_else(
    planned: Mapping[str, Any],
) -> None:
    trust = _policy(planned, "module.source.aws_iam_role.scheduler", "assume_role_policy")
    identity = _policy(planned, "module.source.aws_iam_role_policy.scheduler", "policy")
    schedule = planned["module.source.aws_scheduler_schedule.this"]
    function_arn = planned["module.source.aws_lambda_function.this"]["arn"]
    scheduler_role = schedule["target"][0]["role_arn"]
    assert schedule["target"][0]["arn"] == function_arn

    def service(source_arn: str) -> str:
        return _decide(
            request={
                "principal": "scheduler.amazonaws.com",
                "action": "sts:AssumeRole",
                "resource": scheduler_role,
                "context": {"aws:SourceAccount": A, "aws:SourceArn": source_arn},
            },
            resource_policy=trust,
        )

    assert service(schedule["arn"]) == "allowed"
    assert service(f"arn:aws:scheduler:{REGION}:{A}:schedule/default/another") == "implicitDeny"

    role_name = scheduler_role.split("/")[-1]

    def invoke(resource: str) -> str:
        return _decide(
            request={
                **_session(role_name),
                "action": "lambda:InvokeFunction",
                "resource": resource,
            },
            identity_policies=[identity],
        )

    assert invoke(function_arn) == "allowed"
    assert invoke(function_arn.replace("write-report-to-crossaccount-s3", "other")) == (
        "implicitDeny"
    )


# ------------------------------------------------------ the chain, re-plan, re-apply, destroy


def _scheduled_event(n: int) -> dict[str, str]:
    return {
        "execution_id": f"00000000-0000-4000-8000-00000000000{n}",
        "scheduled_time": f"2026-01-01T00:0{n}:00Z",
    }


def test_reporter_appends_through_the_real_chain(deployment: Deployment) -> None:
    result = deployment.invoke_reporter(_scheduled_event(1))
    assert result["statusCode"] == 200, result
    log = deployment.read_log()
    text = log["body"].decode()
    assert text.startswith("ISS Location Logs\n===================\n\n")
    assert text.count("Time: ") == 1
    assert log["content_type"].startswith("text/plain")
    # The same scheduled run delivered again (a retry) appends nothing.
    again = deployment.invoke_reporter(_scheduled_event(1))
    assert again["statusCode"] == 200, again
    assert deployment.read_log()["body"] == log["body"]


def test_replan_is_clean_and_apply_again_leaves_the_log_untouched(
    deployment: Deployment, planned: Mapping[str, Any]
) -> None:
    assert deployment.notes["first_replan_changes"] is False
    deployment.invoke_reporter(_scheduled_event(2))
    before = deployment.read_log()
    assert before["body"].decode().count("Time: ") >= 1

    changes, _plan = deployment.run.plan("after-writes.tfplan")
    assert changes is False, f"re-plan wants changes; see {deployment.run.log_file}"
    deployment.run.apply()
    after = deployment.read_log()
    assert after == before  # same bytes, same ETag, same version: no re-upload


def test_destroy_and_report_timings(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment.run.destroy()
    deployment.destroyed = True
    buckets = [b["Name"] for b in deployment.terraform_role("s3").list_buckets()["Buckets"]]
    assert deployment.outputs["bucket_name"] not in buckets
    with pytest.raises(ClientError):
        deployment.operator("iam").get_role(RoleName="connect-to-bridge")
    with capsys.disabled():
        timings = ", ".join(f"{k} {v:.1f} s" for k, v in deployment.run.timings.items())
        print(f"\ninfra/ into the local AWS: {timings}")
