#!/usr/bin/env python3
"""One entry point for a fresh clone: ``python3 tasks.py demo`` or ``python3 tasks.py test``.

Needs only Python >= 3.11 (and Terraform for the demo and the Terraform tests). Each task
creates ``.venv`` from the committed lock files (hash-checked), installs crosstrack into it
in editable mode and runs the task. Reinstalls happen only when a lock file or
pyproject.toml changed. Tools that carry their own pins (awscli, checkov) get virtual
environments of their own under ``.venv-tools/`` so their pins never fight ours.

    python3 tasks.py demo [ARGS...]   install the runtime set, run `crosstrack demo ARGS`
    python3 tasks.py test [ARGS...]   install everything, run ruff, mypy and pytest ARGS
    python3 tasks.py lint             ruff check, ruff format --check, mypy --strict
    python3 tasks.py bench            run the benchmarks in bench/ and refresh their results
    python3 tasks.py lock             regenerate requirements/*.lock (needs `uv` on PATH)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# An empty CROSSTRACK_VENV counts as unset: Path("") is the current directory, and the venv
# is created with clear=True, which would empty it.
VENV = Path(os.environ.get("CROSSTRACK_VENV") or ROOT / ".venv").resolve()
TOOLS = ROOT / ".venv-tools"
REQ = ROOT / "requirements"

# Which lock file each task installs into .venv.
LOCKS = {"run": REQ / "run.lock", "dev": REQ / "dev.lock"}
# Stand-alone tools: name -> (lock file, executable inside its venv).
TOOL_LOCKS = {
    "awscli": (REQ / "awscli.lock", "aws"),
    "checkov": (REQ / "checkov.lock", "checkov"),
}


def _say(msg: str) -> None:
    print(f"tasks.py: {msg}", file=sys.stderr, flush=True)


def _bin(env: Path, name: str) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return env / sub / f"{name}{suffix}"


def _run(*cmd: str | Path, env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)


def _check(*cmd: str | Path) -> None:
    code = _run(*cmd)
    if code != 0:
        _say(f"failed (exit {code}): {' '.join(str(c) for c in cmd)}")
        sys.exit(code)


def _digest(*files: Path) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _stamp_for(lock: Path, *, editable: bool) -> str:
    return _digest(*([lock, ROOT / "pyproject.toml"] if editable else [lock]))


def _ensure_env(env: Path, lock: Path, *, editable: bool, superset: Path | None = None) -> None:
    """Create ``env`` and install ``lock`` into it unless the stamp says it is current.

    ``superset``: a lock that includes ``lock`` (dev.lock includes run.lock); an env
    already installed from it is current too, so `test` then `demo` installs nothing.
    """
    want = _stamp_for(lock, editable=editable)
    accepted = {want}
    if superset is not None:
        accepted.add(_stamp_for(superset, editable=editable))
    stamp = env / ".crosstrack-stamp"
    if stamp.exists() and stamp.read_text() in accepted and _bin(env, "python").exists():
        return
    if not _bin(env, "python").exists():
        if env.exists() and any(env.iterdir()) and not (env / "pyvenv.cfg").exists():
            # clear=True empties the folder: never do that to one that is not a venv.
            _say(f"{env} exists and is not a virtual environment; refusing to clear it")
            sys.exit(2)
        _say(f"creating {env.relative_to(ROOT) if env.is_relative_to(ROOT) else env}")
        venv.EnvBuilder(with_pip=True, clear=True).create(env)
    py = _bin(env, "python")
    _say(f"installing {lock.relative_to(ROOT)} (hash-checked) ...")
    _check(
        py,
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "--require-hashes",
        "-r",
        lock,
    )
    if editable:
        _check(
            py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", "-e", ROOT
        )
    stamp.write_text(want)


def _tools_env() -> dict[str, str]:
    """Install the stand-alone tools and tell the tests where they are."""
    env = dict(os.environ)
    for name, (lock, exe) in TOOL_LOCKS.items():
        if not lock.exists():
            continue
        tool_env = TOOLS / name
        _ensure_env(tool_env, lock, editable=False)
        env[f"CROSSTRACK_{name.upper()}"] = str(_bin(tool_env, exe))
    # `aws logs tail` is AWS CLI v2 only, and v2 is not on PyPI: use one from PATH if any
    # (Debian's `awscli` package is v2); the test that needs it skips, saying so, without.
    if "CROSSTRACK_AWSCLI_V2" not in env:
        for folder in os.environ.get("PATH", "").split(os.pathsep):
            found = shutil.which("aws", path=folder)  # the first aws may be v1 (pip's)
            if found and _version_of(found).startswith("aws-cli/2."):
                env["CROSSTRACK_AWSCLI_V2"] = found
                break
    return env


def _version_of(exe: str) -> str:
    try:
        out = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (out.stdout or out.stderr).strip()


def lint() -> int:
    _ensure_env(VENV, LOCKS["dev"], editable=True)
    codes = [
        _run(_bin(VENV, "ruff"), "check", "src", "tests", "bench", "tasks.py"),
        _run(_bin(VENV, "ruff"), "format", "--check", "src", "tests", "bench", "tasks.py"),
        _run(_bin(VENV, "mypy")),
    ]
    return max(codes)


def test(args: list[str]) -> int:
    lint_code = lint()
    env = _tools_env()
    if not any(a == "-n" or a.startswith(("-n", "--numprocesses", "-p")) for a in args):
        # Two workers (the machine has 2 cores); a test file stays in one worker, so its
        # module-scoped local AWS and Terraform deployment are shared as written.
        args = ["-n", "2", "--dist", "loadfile", *args]
    code = _run(_bin(VENV, "python"), "-m", "pytest", *args, env=env)
    if code == 5:  # pytest: no tests collected, which must never pass as green
        _say("pytest collected no tests")
        return 1
    if lint_code:
        _say("lint or type check failed (see above)")
    return code or lint_code


def demo(args: list[str]) -> int:
    _ensure_env(VENV, LOCKS["run"], editable=True, superset=LOCKS["dev"])
    return _run(_bin(VENV, "crosstrack"), "demo", *args)


def bench(args: list[str]) -> int:
    _ensure_env(VENV, LOCKS["dev"], editable=True)
    return _run(_bin(VENV, "python"), "bench/run.py", *args)


def lock() -> int:
    common = ["--universal", "--python-version", "3.11", "--generate-hashes", "-q"]
    extras = {"run": ["cli", "local", "map"], "dev": ["cli", "local", "map", "dev"]}
    for name, names in extras.items():
        flags = [arg for extra in names for arg in ("--extra", extra)]
        out = LOCKS[name].relative_to(ROOT)  # relative: the lock's header records the command
        _check("uv", "pip", "compile", "pyproject.toml", *flags, *common, "-o", out)
    # What the Lambda zip bundles (crosstrack package), then the stand-alone tools.
    others = {"lambda": REQ / "lambda.lock"} | {n: lk for n, (lk, _exe) in TOOL_LOCKS.items()}
    for name, lockfile in others.items():
        source = lockfile.with_suffix(".in")
        if source.exists():
            _check(
                "uv",
                "pip",
                "compile",
                source.relative_to(ROOT),
                *common,
                "-o",
                lockfile.relative_to(ROOT),
            )
            _say(f"locked {name}")
    return 0


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script must explain itself on old Pythons
        _say(f"Python >= 3.11 is required; this is {sys.version.split()[0]}")
        return 2
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0 if argv else 2
    task, rest = argv[0], argv[1:]
    tasks = {
        "test": lambda: test(rest),
        "demo": lambda: demo(rest),
        "lint": lint,
        "bench": lambda: bench(rest),
        "lock": lock,
    }
    if task not in tasks:
        _say(f"unknown task {task!r}; see `python3 tasks.py --help`")
        return 2
    return tasks[task]()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
