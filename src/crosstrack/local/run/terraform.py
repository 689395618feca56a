"""Run the real ``infra/`` against the local two-account AWS, without editing ``infra/``.

Terraform is the one source of truth for infrastructure (design.md), so the demo and the
integration tests deploy the very same root module into the emulator. Three things differ
from a deploy to AWS, and all three live in a work directory, never in ``infra/``:

* a copy of ``infra/`` plus one ``*_override.tf`` file that points both providers (account A
  and account B's assume-role provider) at the local endpoint, with path-style S3, the
  emulator's CA and no EC2 metadata lookups (override files are read only from the module's
  own directory, hence the copy);
* a Terraform CLI configuration that installs ``hashicorp/aws`` from an offline provider
  mirror when one exists (``$CROSSTRACK_TF_PLUGIN_DIR``, else ``/opt/tf-plugins``), and
  from the registry elsewhere;
* the state, ``.terraform/`` and a log file of every command's output.

Credentials are the operator's (account A); account B is reached the way the real
deployment reaches it, through the ``terraform`` role's ``assume_role`` in
``providers.tf``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from crosstrack.errors import CrosstrackError

PLUGIN_DIR_ENV = "CROSSTRACK_TF_PLUGIN_DIR"
DEFAULT_PLUGIN_DIR = Path("/opt/tf-plugins")
TERRAFORM_ENV = "CROSSTRACK_TERRAFORM"
OVERRIDE_FILE = "crosstrack_local_override.tf"
STATE_OVERRIDE_FILE = "crosstrack_state_override.tf"
ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"

# Every service infra/ touches. The provider needs an endpoint per service.
SERVICES = (
    "cloudwatch",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "scheduler",
    "sns",
    "sqs",
    "sts",
)
# Copying infra/ must not carry anything a previous local run may have left in it.
_NOT_COPIED = shutil.ignore_patterns(
    ".terraform", "*.tfstate", "*.tfstate.*", ".terraform.lock.hcl", "*.tfvars", "*.tfplan"
)


class TerraformError(CrosstrackError, RuntimeError):
    """A terraform command failed; the message names it and ends with its output's tail."""

    def __init__(self, step: str, returncode: int, log_file: Path, tail: str) -> None:
        self.step = step
        self.returncode = returncode
        self.log_file = log_file
        super().__init__(f"terraform {step} failed (exit {returncode}); see {log_file}\n{tail}")


class Operator(Protocol):
    """The operator's access key (read-only: LocalAWS hands out a frozen dataclass)."""

    @property
    def access_key_id(self) -> str: ...

    @property
    def secret_access_key(self) -> str: ...


class LocalEndpoint(Protocol):
    """What this module needs from :class:`crosstrack.local.LocalAWS`."""

    @property
    def endpoint(self) -> str: ...

    @property
    def ca_bundle(self) -> Path | str: ...

    @property
    def operator(self) -> Operator: ...


def find_terraform() -> str | None:
    """The terraform binary: ``$CROSSTRACK_TERRAFORM`` or the first on PATH, else None."""
    explicit = os.environ.get(TERRAFORM_ENV)
    if explicit:
        return explicit
    return shutil.which("terraform")


def plugin_mirror() -> Path | None:
    """The offline provider mirror to install ``hashicorp/aws`` from, if this machine has one."""
    explicit = os.environ.get(PLUGIN_DIR_ENV)
    if explicit:
        return Path(explicit)
    return DEFAULT_PLUGIN_DIR if DEFAULT_PLUGIN_DIR.is_dir() else None


def _hcl_string(value: str) -> str:
    # JSON string syntax is valid HCL for plain strings; escape template sequences.
    return json.dumps(value).replace("${", "$${").replace("%{", "%%{")


def cli_config_text(mirror: Path | None) -> str:
    """A Terraform CLI configuration: the mirror for hashicorp/aws, the registry otherwise."""
    if mirror is None:
        return "# No offline provider mirror here: install providers from their registries.\n"
    return (
        "# Written by crosstrack: hashicorp/aws from the offline mirror, nothing else from it.\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {_hcl_string(str(mirror))}\n"
        '    include = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "}\n"
    )


def override_text(endpoint: str, ca_bundle: str | None) -> str:
    """The override file pointing both AWS providers at ``endpoint``."""
    endpoints = "\n".join(f"    {svc:<10} = {_hcl_string(endpoint)}" for svc in SERVICES)
    lines = [
        "# Written by crosstrack.local.run.terraform into a copy of infra/: never commit it.",
    ]
    for alias in (None, "account_b"):
        lines.append('provider "aws" {')
        if alias:
            lines.append(f'  alias = "{alias}"')
        lines += [
            # The emulator serves every bucket on one host name.
            "  s3_use_path_style           = true",
            "  skip_metadata_api_check     = true",
            "  skip_region_validation      = true",
        ]
        if ca_bundle:
            lines.append(f"  custom_ca_bundle            = {_hcl_string(ca_bundle)}")
        lines += ["  endpoints {", endpoints, "  }", "}"]
    return "\n".join(lines) + "\n"


def hcl_tfvars(values: Mapping[str, Any]) -> str:
    """Render a ``.tfvars.json`` body (Terraform reads JSON variable files natively)."""
    return json.dumps(dict(values), indent=2, sort_keys=True) + "\n"


@dataclass
class TerraformRun:
    """One working copy of ``infra/`` and the terraform commands run in it.

    ``timings`` records the wall time of every step (``init``, ``apply``, ``plan``...; a
    repeated step gets ``#2``, ``#3``). ``env`` is the full environment for terraform; use
    :meth:`for_local` to build one for the local AWS.
    """

    infra: Path
    workdir: Path
    env: dict[str, str]
    variables: dict[str, Any] = field(default_factory=dict)
    terraform: str = "terraform"
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.workdir / "infra"

    @property
    def log_file(self) -> Path:
        return self.workdir / "terraform.log"

    @property
    def state_file(self) -> Path:
        return self.workdir / "terraform.tfstate"

    @classmethod
    def for_local(
        cls,
        aws: LocalEndpoint,
        infra: Path,
        workdir: Path,
        *,
        variables: Mapping[str, Any] | None = None,
        plugin_cache: Path | None = None,
        terraform: str | None = None,
        region: str = "us-east-1",
    ) -> TerraformRun:
        """Prepare ``workdir`` to deploy ``infra`` into the local AWS ``aws``."""
        workdir.mkdir(parents=True, exist_ok=True)
        ca = str(aws.ca_bundle) if aws.ca_bundle else None
        env = {
            k: v
            for k, v in os.environ.items()
            # Nothing from the caller's AWS setup may leak into a local run.
            if not k.startswith(("AWS_", "TF_"))
        }
        env.update(
            {
                "AWS_ACCESS_KEY_ID": aws.operator.access_key_id,
                "AWS_SECRET_ACCESS_KEY": aws.operator.secret_access_key,
                "AWS_DEFAULT_REGION": region,
                "AWS_REGION": region,
                # No shared files: the operator's key above is the only identity.
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        if ca:
            env["AWS_CA_BUNDLE"] = ca
        run = cls(
            infra=infra,
            workdir=workdir,
            env=env,
            variables={
                "region": region,
                "account_a_id": ACCOUNT_A,
                "account_b_id": ACCOUNT_B,
                **dict(variables or {}),
            },
            terraform=terraform or find_terraform() or "terraform",
        )
        run.prepare(plugin_cache=plugin_cache)
        (run.root / OVERRIDE_FILE).write_text(override_text(aws.endpoint, ca))
        return run

    def prepare(self, *, plugin_cache: Path | None = None) -> None:
        """Copy ``infra/`` into the work directory and write the CLI config and variables."""
        if self.root.exists():
            shutil.rmtree(self.root)
        shutil.copytree(self.infra, self.root, ignore=_NOT_COPIED)
        # State beside the copy, not in it: re-preparing the copy never loses it.
        (self.root / STATE_OVERRIDE_FILE).write_text(
            "# Written by crosstrack.local.run.terraform: state outside the configuration.\n"
            "terraform {\n"
            '  backend "local" {\n'
            f"    path = {_hcl_string(str(self.state_file))}\n"
            "  }\n"
            "}\n"
        )
        cli_config = self.workdir / "terraform.rc"
        cli_config.write_text(cli_config_text(plugin_mirror()))
        self.env.update(
            {
                "TF_CLI_CONFIG_FILE": str(cli_config),
                "TF_DATA_DIR": str(self.workdir / ".terraform"),
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                # No version check against HashiCorp's servers.
                "CHECKPOINT_DISABLE": "1",
            }
        )
        if plugin_cache is not None:
            plugin_cache.mkdir(parents=True, exist_ok=True)
            self.env["TF_PLUGIN_CACHE_DIR"] = str(plugin_cache)
        self.write_variables()

    def write_variables(self) -> Path:
        path = self.workdir / "crosstrack.tfvars.json"
        path.write_text(hcl_tfvars(self.variables))
        return path

    # -- commands -----------------------------------------------------------------------

    def run(self, step: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``terraform -chdir=<copy> <args>``, log its output, time it."""
        cmd = [self.terraform, f"-chdir={self.root}", *args]
        started = time.monotonic()
        result = subprocess.run(  # fixed argv, no shell
            cmd, env=self.env, capture_output=True, text=True, check=False, timeout=1800
        )
        elapsed = time.monotonic() - started
        name, n = step, 2
        while name in self.timings:
            name, n = f"{step}#{n}", n + 1
        self.timings[name] = elapsed
        with self.log_file.open("a") as log:
            log.write(f"\n===== {name}: {' '.join(cmd[1:])} (exit {result.returncode}, ")
            log.write(f"{elapsed:.1f} s)\n{result.stdout}{result.stderr}")
        if check and result.returncode != 0:
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-25:])
            raise TerraformError(step, result.returncode, self.log_file, tail)
        return result

    def _var_args(self) -> list[str]:
        return [f"-var-file={self.write_variables()}"]

    def init(self) -> None:
        self.run("init", "init", "-input=false", "-no-color")

    def validate(self) -> None:
        self.run("validate", "validate", "-no-color")

    def apply(self) -> None:
        self.run(
            "apply",
            "apply",
            "-input=false",
            "-no-color",
            "-auto-approve",
            *self._var_args(),
        )

    def plan(self, out: str = "tfplan") -> tuple[bool, Path]:
        """Plan into ``out``; return (changes pending, plan file)."""
        plan_file = self.workdir / out
        result = self.run(
            "plan",
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            f"-out={plan_file}",
            *self._var_args(),
            check=False,
        )
        if result.returncode not in (0, 2):
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-25:])
            raise TerraformError("plan", result.returncode, self.log_file, tail)
        return result.returncode == 2, plan_file

    def show_json(self, plan_file: Path | None = None) -> dict[str, Any]:
        """``terraform show -json`` of a plan file, or of the state."""
        extra = [str(plan_file)] if plan_file else []
        result = self.run("show", "show", "-json", "-no-color", *extra)
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def outputs(self) -> dict[str, Any]:
        result = self.run("output", "output", "-json", "-no-color")
        raw: dict[str, dict[str, Any]] = json.loads(result.stdout)
        return {name: item.get("value") for name, item in raw.items()}

    def destroy(self) -> None:
        self.run(
            "destroy",
            "destroy",
            "-input=false",
            "-no-color",
            "-auto-approve",
            *self._var_args(),
        )


def run_terraform(run: TerraformRun, steps: Sequence[str]) -> dict[str, float]:
    """Run ``steps`` (init, validate, apply, plan, destroy) in order; return the timings."""
    for step in steps:
        getattr(run, step)()
    return dict(run.timings)
