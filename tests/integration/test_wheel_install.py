"""crosstrack as a user installs it: a wheel built from this tree, installed into a fresh
virtual environment outside the repository, run from a directory that is no checkout.

The commands must find what they read at run time (infra/, infra/bootstrap/, the Lambda lock)
inside the installed package. To stay offline and fast the new environment installs only
crosstrack itself (``--no-deps``) and sees the dependencies of the test environment through
a ``.pth`` line; that path is not a site directory, so the editable install of the checkout
it may hold (a ``.pth`` file of its own) is never activated.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SOURCES = ["src", "infra", "requirements"]
FILES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md"]
NOT_COPIED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "*.egg-info", ".terraform", "*.tfstate*", ".terraform.lock.hcl"
)
EXPORTS = 7  # the export lines of design.md
RECORD = re.compile(r"Time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\nLatitude: -?\d+\.\d{4}\n")


@dataclass(frozen=True)
class Installed:
    venv: Path
    python: Path
    crosstrack: Path
    home: Path  # a directory outside the repository, where the commands run

    def env(self) -> dict[str, str]:
        return _without_checkout()


def _without_checkout() -> dict[str, str]:
    """The environment minus the checkout (PYTHONPATH) and the outer world's AWS settings."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }


def _run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, f"{args}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel-install")
    tree = root / "tree"  # a copy: building never writes into the checkout
    for name in SOURCES:
        shutil.copytree(REPO / name, tree / name, ignore=NOT_COPIED)
    for name in FILES:
        shutil.copy2(REPO / name, tree / name)
    dist = root / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(tree)])
    (wheel,) = dist.glob("crosstrack-*.whl")

    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    _run(
        [
            sys.executable, "-m", "pip", "--python", str(python),
            "install", "--no-deps", "--no-index", "--ignore-installed", "-q", str(wheel),
        ],
        env=_without_checkout(),
    )  # fmt: skip
    # After the install: pip would otherwise see the checkout's crosstrack there and skip it.
    shared = sysconfig.get_paths()["purelib"]
    (Path(purelib.stdout.strip()) / "crosstrack-test-deps.pth").write_text(shared + "\n")
    home = root / "home"
    home.mkdir()
    return Installed(venv=venv, python=python, crosstrack=venv / "bin" / "crosstrack", home=home)


def test_the_installed_package_carries_its_run_time_files(installed: Installed) -> None:
    code = (
        "import crosstrack, crosstrack.resources as r, crosstrack.packaging.lockfile as l;"
        "print(crosstrack.__file__); print(r.infra_dir()); print(r.bootstrap_dir());"
        "print(l.find_lock(search_from=[]))"
    )
    proc = _run([str(installed.python), "-c", code], cwd=installed.home, env=installed.env())
    package, infra, bootstrap, lock = (Path(line) for line in proc.stdout.splitlines())
    assert package.is_relative_to(installed.venv)
    assert infra.is_relative_to(installed.venv)
    assert not infra.is_relative_to(REPO)
    assert (infra / "main.tf").is_file()
    assert sorted(p.name for p in (infra / "modules").iterdir()) == [
        "source-account",
        "target-account",
    ]
    assert list(bootstrap.glob("*.json"))
    assert lock.is_relative_to(installed.venv)
    assert lock.read_text() == (REPO / "requirements" / "lambda.lock").read_text()
    # CI files and Terraform state never ship.
    assert not (infra / "tests").exists()
    assert not list(infra.rglob("*.tfstate*"))


def _local_up(installed: Installed, workdir: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [str(installed.crosstrack), "local", "up", "--workdir", str(workdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=installed.home,
        env=installed.env(),
    )
    assert process.stdout is not None
    exports: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while len(exports) < EXPORTS:
        line = process.stdout.readline()
        if not line or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"local up printed {exports!r} and stopped:\n{err}")
        name, _, value = line.strip().removeprefix("export ").partition("=")
        exports[name] = shlex.split(value)[0]
    return process, exports


@pytest.fixture
def local_up(installed: Installed, tmp_path: Path) -> Iterator[dict[str, str]]:
    process, exports = _local_up(installed, tmp_path / "local")
    try:
        yield exports
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
        assert process.returncode == 0


def test_local_up_from_the_wheel_answers_get_caller_identity(
    local_up: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in local_up.items():
        monkeypatch.setenv(name, value)
    # A fresh session: boto3's default one caches the first credentials it resolved, which
    # may be another test's local AWS.
    identity = boto3.Session().client("sts").get_caller_identity()
    assert identity["Account"] == "111111111111"
    assert identity["Arn"] == "arn:aws:iam::111111111111:user/operator"
    # Profile account-b assumes B's deploy role, created from the packaged bootstrap JSON.
    role_b = boto3.Session(profile_name="account-b").client("sts").get_caller_identity()
    assert role_b["Account"] == "222222222222"
    assert ":assumed-role/" in role_b["Arn"]


@pytest.mark.terraform
@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH")
def test_demo_runs_from_the_wheel(installed: Installed, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            str(installed.crosstrack),
            "demo",
            "--ticks",
            "1",
            "--every",
            "0",
            "--offline",
            "--workdir",
            str(tmp_path / "demo"),
        ],
        capture_output=True,
        text=True,
        cwd=installed.home,
        env=installed.env(),
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(RECORD.findall(proc.stdout)) == 1
    assert "The trust chain" in proc.stdout
