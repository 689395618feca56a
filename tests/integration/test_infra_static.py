"""infra/ checked without any AWS: terraform fmt, init, validate, `terraform test`, checkov.

Terraform runs on a copy of infra/ in a temporary directory (state, .terraform and the
dependency lock never land in infra/); providers come from the offline mirror when this
machine has one ($CROSSTRACK_TF_PLUGIN_DIR or /opt/tf-plugins), from the registry otherwise.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from crosstrack.local.run.terraform import TerraformRun, find_terraform

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
TERRAFORM = find_terraform()

needs_terraform = pytest.mark.skipif(
    TERRAFORM is None, reason="terraform is not installed (not on PATH, CROSSTRACK_TERRAFORM unset)"
)


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> TerraformRun:
    if TERRAFORM is None:
        pytest.skip("terraform is not installed (not on PATH, CROSSTRACK_TERRAFORM unset)")
    workdir = tmp_path_factory.mktemp("infra-static")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    run = TerraformRun(infra=INFRA, workdir=workdir, env=env, terraform=TERRAFORM)
    run.prepare(plugin_cache=tmp_path_factory.getbasetemp() / "tf-plugin-cache")
    run.init()
    return run


@pytest.mark.terraform
@needs_terraform
def test_fmt_check() -> None:
    assert TERRAFORM is not None
    result = subprocess.run(
        [TERRAFORM, "fmt", "-check", "-recursive", "-diff", "-no-color", str(INFRA)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"},
    )
    assert result.returncode == 0, f"run `terraform fmt -recursive infra`:\n{result.stdout}"


@pytest.mark.terraform
def test_init_and_validate_leave_infra_clean(initialised: TerraformRun) -> None:
    initialised.validate()
    leftovers = [
        p.relative_to(INFRA)
        for p in INFRA.rglob("*")
        if p.name in {".terraform", ".terraform.lock.hcl", "terraform.tfstate"}
    ]
    assert leftovers == []


@pytest.mark.terraform
def test_terraform_test_suite(initialised: TerraformRun) -> None:
    """infra/tests/*.tftest.hcl: variable validation and the function's wiring (mock provider)."""
    result = initialised.run("test", "test", "-no-color", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = re.search(r"(\d+) passed, (\d+) failed", result.stdout)
    assert summary, result.stdout
    assert int(summary[1]) >= 5
    assert summary[2] == "0"


CHECKOV = os.environ.get("CROSSTRACK_CHECKOV")
CONFIG = INFRA / ".checkov.yaml"


def _config_skips() -> dict[str, str]:
    """Check id -> justification for every `- CKV...` line of infra/.checkov.yaml."""
    skips: dict[str, str] = {}
    justification = ""
    for line in CONFIG.read_text().splitlines():
        comment = re.match(r"\s*#\s*(CKV\w+):\s*(.+)", line)
        if comment:
            justification = comment[2]
        item = re.match(r"\s*-\s*(CKV\w+)\s*$", line)
        if item:
            skips[item[1]] = justification if justification else ""
            justification = ""
    return skips


@pytest.mark.skipif(
    not CHECKOV, reason="CROSSTRACK_CHECKOV is unset (python3 tasks.py test installs checkov)"
)
def test_checkov_passes_with_only_justified_skips(tmp_path: Path) -> None:
    assert CHECKOV is not None
    result = subprocess.run(
        [CHECKOV, "--config-file", str(CONFIG), "-d", str(INFRA), "-o", "json", "--skip-download"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for c in report["results"].get("failed_checks", [])
    ]
    assert failed == [], "\n".join(failed)
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 50
    skips = _config_skips()
    assert all(skips.values()), f"every skip needs a justification comment: {skips}"
    # Checks skipped inline (#checkov:skip) must be listed in the config file too.
    text = CONFIG.read_text()
    for check in report["results"].get("skipped_checks", []):
        assert check["check_id"] in text, f"{check['check_id']} skipped but not in {CONFIG.name}"
    assert result.returncode == 0, result.stderr
