"""The whole system on one machine: local AWS, package, Terraform apply, scheduled ticks.

:class:`Demo` holds the steps so the CLI can run them in order and tests can reuse one
deployment for many ticks and breakages:

    demo = Demo(DemoOptions(workdir=...), progress=print)
    demo.start(); demo.package(); demo.deploy()
    restore = demo.break_link("b-trust")
    tick = demo.tick()          # fires the deployed schedule once, waits for the invocation
    restore(); demo.tick()
    print(demo.read_log()); demo.chain()
    demo.stop()
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.session

from crosstrack import resources
from crosstrack.errors import CrosstrackError
from crosstrack.local.accounts import ACCOUNT_A
from crosstrack.local.emulator import LocalAWS
from crosstrack.local.run import links, scheduler
from crosstrack.local.run.lambda_runner import Invocation, LambdaRunner
from crosstrack.local.run.terraform import TerraformRun, find_terraform

Progress = Callable[[str], None]

# The demo is a local show: its bundled TLE (the offline source) is far older than the
# reporter's default MAX_TLE_AGE_DAYS of 14, so it deploys with a limit of 100 years and
# says so. A real deployment keeps the default (infra/'s max_tle_age_days).
DEMO_MAX_TLE_AGE_DAYS = 36500


class DemoError(CrosstrackError):
    """A step of the demo failed; the message says which and what to do."""


@dataclass(frozen=True)
class DemoOptions:
    workdir: Path
    port: int = 0
    infra: Path | None = None
    offline: bool = False
    retry_delay: float = 0.0


@dataclass(frozen=True)
class Tick:
    """One firing of the schedule and the invocation attempts it caused."""

    number: int
    firing: scheduler.Firing
    attempts: list[Invocation]
    audit_from: int

    @property
    def ok(self) -> bool:
        return self.firing.ok and bool(self.attempts) and self.attempts[-1].ok

    @property
    def logs_lost(self) -> bool:
        return any(a.logs_error for a in self.attempts)


def find_infra(explicit: Path | None = None) -> Path:
    """The Terraform root module to apply: ``explicit`` (``--infra``), else crosstrack's own
    ``infra/`` (the checkout's, or the copy inside the installed package: resources.py)."""
    infra = explicit if explicit is not None else resources.infra_dir()
    if not (infra / "main.tf").is_file():
        raise DemoError(
            f"{infra} is not a Terraform root module (no main.tf)"
            + ("" if explicit is not None else "; pass --infra PATH")
        )
    return infra.resolve()


def host_target() -> tuple[str, str]:
    """The (python, arch) of this machine: the demo runs the zip here, so build for it."""
    machine = platform.machine().lower()
    arch = "arm64" if machine in {"aarch64", "arm64"} else "x86_64"
    return f"{sys.version_info.major}.{sys.version_info.minor}", arch


class Demo:
    """One local deployment of crosstrack and the ways to exercise it."""

    def __init__(self, options: DemoOptions, *, progress: Progress = lambda _m: None) -> None:
        self.options = options
        self.progress = progress
        self.workdir = options.workdir.resolve()
        self.timings: dict[str, float] = {}
        self.aws: LocalAWS | None = None
        self.runner: LambdaRunner | None = None
        self.terraform: TerraformRun | None = None
        self.zip_path = self.workdir / "lambda.zip"
        self.outputs: dict[str, Any] = {}
        self.deployment: links.Deployment | None = None
        self.ticks: list[Tick] = []
        self._schedule_start: datetime | None = None

    # ---------------------------------------------------------------- steps
    def _timed(self, name: str, started: float) -> None:
        self.timings[name] = self.timings.get(name, 0.0) + time.monotonic() - started

    def start(self) -> LocalAWS:
        started = time.monotonic()
        if find_terraform() is None:
            raise DemoError(
                "terraform is not on PATH: install Terraform >= 1.5 "
                "(https://developer.hashicorp.com/terraform/install) or set CROSSTRACK_TERRAFORM"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        infra = find_infra(self.options.infra)
        self.aws = LocalAWS(
            self.workdir / "aws",
            port=self.options.port,
            bootstrap_dir=resources.bootstrap_dir(infra),
        ).start()
        self.progress(f"local AWS up at {self.aws.endpoint} (accounts 111111111111, 222222222222)")
        self._timed("start", started)
        return self.aws

    def package(self) -> Path:
        from crosstrack.packaging.lambda_zip import build_lambda_zip
        from crosstrack.packaging.wheels import Target

        started = time.monotonic()
        python, arch = host_target()
        result = build_lambda_zip(
            self.zip_path, target=Target(python=python, arch=arch), log=self.progress
        )
        self.progress(
            f"packaged {result.path.name}: {result.size / 1e6:.1f} MB, python{python}/{arch}, "
            f"sha256 {result.sha256_base64}"
        )
        self._timed("package", started)
        return result.path

    def deploy(self) -> dict[str, Any]:
        aws = self._aws()
        started = time.monotonic()
        python, arch = host_target()
        variables: dict[str, Any] = {
            "lambda_zip_path": str(self.zip_path),
            "lambda_runtime": f"python{python}",
            "lambda_architecture": arch,
            # The demo empties the bucket on destroy; a real deployment keeps it (default false).
            "bucket_force_destroy": True,
            # The provider waits ~55 s for a new lifecycle rule to settle (docs/deploy.md);
            # a demo bucket lives for minutes, so it goes without.
            "bucket_lifecycle_enabled": False,
            "max_tle_age_days": DEMO_MAX_TLE_AGE_DAYS,
        }
        if self.options.offline:
            variables["iss_sources"] = ["tle"]
        self.progress(_tle_age_note())
        self.terraform = TerraformRun.for_local(
            aws,
            find_infra(self.options.infra),
            self.workdir / "terraform",
            variables=variables,
            plugin_cache=self.workdir / "plugin-cache",
        )
        self.progress(f"terraform init + apply (full output: {self.terraform.log_file})")
        try:
            self.terraform.init()
            self.terraform.apply()
            self.outputs = self.terraform.outputs()
        finally:
            self._timed("apply", started)
        self.deployment = self._deployment()
        self.runner = LambdaRunner(
            aws, self.workdir / "lambda", retry_delay=self.options.retry_delay
        )
        self.runner.install()
        self.progress(
            f"deployed {self.deployment.function_name} in {ACCOUNT_A}; "
            f"bucket {self.deployment.bucket} in 222222222222"
        )
        return self.outputs

    def _deployment(self) -> links.Deployment:
        out = self.outputs
        targets = scheduler.discover(ACCOUNT_A)
        if not targets:
            raise DemoError("the deployment has no enabled schedule targeting a Lambda function")
        return links.Deployment(
            function_name=str(out["function_name"]),
            function_arn=targets[0].function_arn,
            role_a_arn=str(out["source_role_arn"]),
            role_b_arn=str(out["target_role_arn"]),
            schedule_role_arn=targets[0].role_arn,
            bucket=str(out["bucket_name"]),
        )

    def break_link(self, link: str) -> links.Restore:
        if link == "deploy-role":
            return links.break_deploy_role()
        return links.break_link(link, self._dep())

    def tick(self) -> Tick:
        """Fire the deployed schedule once, now, and wait for the invocation to finish."""
        aws, runner = self._aws(), self._runner()
        started = time.monotonic()
        audit_from = self.audit_size()
        target = scheduler.discover(ACCOUNT_A)[0]
        if self._schedule_start is None:
            self._schedule_start = datetime.now(UTC).replace(microsecond=0)
        # Tick n is the schedule's n-th run, whenever the demo fires it: distinct scheduled
        # times (the idempotency key is schedule ARN + scheduled time), even with --every 0.
        when = scheduler.tick_time(self._schedule_start, len(self.ticks), target.interval)
        firing = scheduler.fire(aws, target, when)
        attempts = runner.wait(timeout=600) if firing.ok else []
        tick = Tick(len(self.ticks) + 1, firing, attempts, audit_from)
        self.ticks.append(tick)
        self._timed("ticks", started)
        return tick

    def read_log(self) -> bytes:
        """The log object, read exactly as ``aws s3 cp s3://<bucket>/<key> - --profile
        account-b`` would: the account-b profile of the generated config (the operator in A
        assuming B's terraform role)."""
        aws, dep = self._aws(), self._dep()
        session = botocore.session.Session(profile="account-b")
        session.set_config_variable("config_file", str(aws.config_file))
        session.set_config_variable("credentials_file", str(aws.credentials_file))
        # The STS client behind the profile's role_arn must trust the local CA too.
        session.set_config_variable("ca_bundle", str(aws.ca_bundle))
        client = boto3.Session(botocore_session=session).client(
            "s3", endpoint_url=aws.endpoint, verify=str(aws.ca_bundle)
        )
        body: bytes = client.get_object(Bucket=dep.bucket, Key=dep.object_key)["Body"].read()
        return body

    def audit(self, start: int = 0) -> list[dict[str, Any]]:
        """Audit-log entries from line ``start`` on (the local CloudTrail)."""
        lines = self._aws().audit_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines[start:] if line.strip()]

    def audit_size(self) -> int:
        return len(self._aws().audit_log.read_text(encoding="utf-8").splitlines())

    def denial_since(self, start: int) -> dict[str, Any] | None:
        """The first audit entry after ``start`` that did not allow its request."""
        for entry in self.audit(start):
            if entry.get("decision") != "allowed":
                return entry
        return None

    def chain(self) -> list[links.ChainRow]:
        return links.chain_rows(self.audit(0), self._dep())

    def stop(self) -> None:
        started = time.monotonic()
        if self.runner is not None:
            self.runner.close()
            self.runner = None
        if self.aws is not None:
            self.aws.stop()
            self.aws = None
        self._timed("stop", started)

    # ---------------------------------------------------------------- helpers
    def _aws(self) -> LocalAWS:
        if self.aws is None:
            raise DemoError("the local AWS is not running")
        return self.aws

    def _runner(self) -> LambdaRunner:
        if self.runner is None:
            raise DemoError("nothing is deployed yet")
        return self.runner

    def _dep(self) -> links.Deployment:
        if self.deployment is None:
            raise DemoError("nothing is deployed yet")
        return self.deployment


def _tle_age_note() -> str:
    """The stderr line saying why the demo raises MAX_TLE_AGE_DAYS."""
    from crosstrack.reporter.orbit import bundled_tle

    try:
        age = f"{bundled_tle().age_at(datetime.now(UTC)).days} days old"
    except Exception:  # the note must never stop the demo
        age = "older than 14 days"
    return (
        f"MAX_TLE_AGE_DAYS={DEMO_MAX_TLE_AGE_DAYS} for this local demo: the bundled TLE is "
        f"{age}, so its positions are rough estimates (a real deployment keeps the default 14)"
    )


def default_workdir() -> Path:
    """``.crosstrack/demo/<UTC timestamp>`` under the current directory: every run keeps
    its own state and logs, and nothing is written inside ``infra/``."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path(os.environ.get("CROSSTRACK_WORKDIR", ".crosstrack")) / "demo" / stamp
