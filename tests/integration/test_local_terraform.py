"""Terraform against the local AWS, enforcement on from the very first call.

tests/data/terraform/two-accounts/ spans both accounts: account A through the operator's
key from the environment, account B only by assuming B's `terraform` role. Nothing in it
names the emulator; the export variables of `crosstrack local up` do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crosstrack.local import ACCOUNT_A, ACCOUNT_B, LocalAWS

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

CONFIG = Path(__file__).resolve().parents[1] / "data" / "terraform" / "two-accounts"
MIRROR = Path(os.environ.get("CROSSTRACK_TF_PLUGINS", "/opt/tf-plugins"))
TERRAFORM = shutil.which("terraform")
OPERATOR = f"arn:aws:iam::{ACCOUNT_A}:user/operator"
TERRAFORM_ROLE = f"arn:aws:iam::{ACCOUNT_B}:role/terraform"
SESSION = f"arn:aws:sts::{ACCOUNT_B}:assumed-role/terraform/crosstrack-terraform"

if TERRAFORM is None:
    pytest.skip("terraform is not on PATH", allow_module_level=True)


def _cli_config(directory: Path) -> Path:
    # Offline: providers come from the filesystem mirror only (the environment's
    # TF_CLI_CONFIG_FILE may point at a file that does not exist).
    rc = directory / "terraform.rc"
    if (MIRROR / "registry.terraform.io").is_dir():
        rc.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path = "{MIRROR}"\n'
            '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
            '  direct { exclude = ["registry.terraform.io/hashicorp/aws"] }\n}\n'
        )
    else:
        rc.write_text("")
    return rc


class Workspace:
    def __init__(self, aws: LocalAWS, root: Path) -> None:
        self.aws = aws
        self.dir = root / "config"
        shutil.copytree(CONFIG, self.dir)
        data = root / "tf-data"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))},
            **aws.env(),
            "TF_CLI_CONFIG_FILE": str(_cli_config(root)),
            "TF_DATA_DIR": str(data),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert TERRAFORM is not None
        return subprocess.run(
            [TERRAFORM, *args, "-no-color"],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def _audit(aws: LocalAWS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(aws.audit_log).read_text().splitlines()]


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("terraform")
    with LocalAWS(root / "local") as aws:
        workspace = Workspace(aws, root)
        init = workspace.run("init", "-input=false")
        assert init.returncode == 0, init.stdout + init.stderr
        apply = workspace.run("apply", "-auto-approve", "-input=false")
        assert apply.returncode == 0, apply.stdout + apply.stderr
        yield workspace


def test_apply_creates_both_accounts_resources(applied: Workspace) -> None:
    outputs = json.loads(applied.run("output", "-json").stdout)
    assert outputs["bucket"]["value"].startswith("iss-reporting-")
    assert outputs["source_role_arn"]["value"] == f"arn:aws:iam::{ACCOUNT_A}:role/connect-to-bridge"
    assert outputs["target_role_arn"]["value"] == f"arn:aws:iam::{ACCOUNT_B}:role/access-s3-bucket"


def test_every_request_was_decided_and_nothing_was_denied(applied: Workspace) -> None:
    entries = _audit(applied.aws)
    served = {e["request_id"] for e in entries if e["via"] == "https"}
    assert len(served) == applied.aws.requests_served > 0
    assert [e for e in entries if e["decision"] != "allowed"] == []


def test_account_b_is_reached_only_through_the_terraform_role(applied: Workspace) -> None:
    entries = _audit(applied.aws)
    in_b = [e for e in entries if e["resource_account"] == ACCOUNT_B]
    by_operator = {e["action"] for e in in_b if e["principal"] == OPERATOR}
    assert by_operator == {"sts:AssumeRole"}  # the operator only assumes the role
    writes = {e["action"] for e in in_b if e["principal"] == SESSION}
    assert {
        "s3:CreateBucket",
        "s3:PutBucketPolicy",
        "iam:CreateRole",
        "iam:PutRolePolicy",
    } <= writes
    in_a = {e["principal"] for e in entries if e["resource_account"] == ACCOUNT_A}
    assert in_a == {OPERATOR}


def test_reapply_plans_no_changes(applied: Workspace) -> None:
    plan = applied.run("plan", "-detailed-exitcode", "-input=false")
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_broken_trust_fails_the_account_b_provider_with_aws_message(applied: Workspace) -> None:
    # The original's pitfall 3: the terraform role no longer trusts the CLI identity (say,
    # someone edited it in the console). Written straight into the emulator's state.
    from moto.iam.models import iam_backends

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/someone-else"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam_backends[ACCOUNT_B]["aws"].update_assume_role_policy("terraform", json.dumps(trust))
    plan = applied.run("plan", "-input=false")
    assert plan.returncode == 1
    message = " ".join(plan.stderr.split())
    assert 'provider["registry.terraform.io/hashicorp/aws"].account_b' in message
    assert (
        f"User: {OPERATOR} is not authorized to perform: sts:AssumeRole on resource: "
        f"{TERRAFORM_ROLE}"
    ) in message
    denied = [e for e in _audit(applied.aws) if e["decision"] != "allowed"]
    assert denied
    assert {(e["action"], e["decided_by"]) for e in denied} == {
        ("sts:AssumeRole", "resource_policy")
    }
