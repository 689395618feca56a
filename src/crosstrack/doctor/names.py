"""Which deployment to diagnose: names from flags, else Terraform's outputs, else design.md's
defaults.

Outputs come from ``terraform output -json`` of ``infra/`` when a state is there, or -- next
to a running ``crosstrack demo --keep`` -- from the demo's own state file, found from the
work directory that ``AWS_CONFIG_FILE`` points into (``<workdir>/aws/aws/config`` beside
``<workdir>/terraform/terraform.tfstate``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULTS = {
    "function": "write-report-to-crossaccount-s3",
    "role_a": "connect-to-bridge",
    "role_b": "access-s3-bucket",
}


@dataclass(frozen=True)
class Names:
    """Names of the deployment; a role is a name or a full ARN. Empty: learn it from AWS."""

    function: str = DEFAULTS["function"]
    role_a: str = ""
    role_b: str = ""
    bucket: str = ""
    key: str = ""
    region: str = "us-east-1"
    schedule: str = ""
    deploy_role: str = "terraform"
    origin: str = "defaults"

    def __post_init__(self) -> None:
        if not self.schedule:
            object.__setattr__(self, "schedule", self.function)

    def role_a_arn(self, account: str) -> str:
        return _arn(self.role_a or DEFAULTS["role_a"], account)

    def role_b_arn(self, account: str) -> str:
        return _arn(self.role_b or DEFAULTS["role_b"], account)


def _arn(role: str, account: str) -> str:
    return role if role.startswith("arn:") else f"arn:aws:iam::{account}:role/{role}"


def from_outputs(outputs: dict[str, Any], base: Names, origin: str) -> Names:
    """Names from Terraform outputs (``{"name": {"value": ...}}`` or plain values)."""

    def value(key: str) -> str:
        raw = outputs.get(key)
        raw = raw.get("value") if isinstance(raw, dict) else raw
        return raw if isinstance(raw, str) else ""

    function = value("function_name") or base.function
    return replace(
        base,
        function=function,
        schedule=value("schedule_name") or function,
        role_a=value("source_role_arn") or base.role_a,
        role_b=value("target_role_arn") or base.role_b,
        bucket=value("bucket_name") or base.bucket,
        origin=origin,
    )


def demo_state_file(config_file: str | None = None) -> Path | None:
    """The Terraform state of the demo whose work directory holds ``AWS_CONFIG_FILE``."""
    config = config_file or os.environ.get("AWS_CONFIG_FILE")
    if not config:
        return None
    for parent in Path(config).resolve().parents:
        candidate = parent / "terraform" / "terraform.tfstate"
        if candidate.is_file():
            return candidate
    return None


def state_outputs(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    outputs = loaded.get("outputs") if isinstance(loaded, dict) else None
    return outputs if isinstance(outputs, dict) else {}


def terraform_outputs(infra: Path) -> dict[str, Any]:
    """``terraform output -json`` in ``infra`` (empty when there is no terraform or no state)."""
    terraform = os.environ.get("CROSSTRACK_TERRAFORM") or shutil.which("terraform")
    if terraform is None or not (infra / "main.tf").is_file():
        return {}
    try:
        done = subprocess.run(
            [terraform, f"-chdir={infra}", "output", "-json", "-no-color"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        loaded = json.loads(done.stdout) if done.returncode == 0 else {}
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def resolve(*, local: bool, infra: Path | None, region: str | None, **flags: str | None) -> Names:
    """Flags over outputs over defaults."""
    base = Names(region=region or os.environ.get("AWS_REGION")
                 or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")  # fmt: skip
    names = base
    state = demo_state_file() if local else None
    if state is not None:
        names = from_outputs(state_outputs(state), base, f"the demo's outputs ({state})")
    elif infra is not None:
        outputs = terraform_outputs(infra)
        if outputs:
            names = from_outputs(outputs, base, f"terraform output of {infra}")
    given = {k: v for k, v in flags.items() if v}
    if "function" in given and "schedule" not in given:
        given["schedule"] = given["function"]
    return replace(names, **given) if given else names
