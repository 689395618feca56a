"""Parsing requirements/lambda.lock: exact pins with hashes, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from crosstrack import resources
from crosstrack.packaging import PackagingError
from crosstrack.packaging.lockfile import LOCK_ENV, canonical_name, find_lock, parse_lock

ROOT = Path(__file__).resolve().parents[3]
H1, H2 = "a" * 64, "b" * 64


def test_the_committed_lock_pins_the_sdk_and_sgp4_with_hashes() -> None:
    pins = {p.key: p for p in parse_lock((ROOT / "requirements/lambda.lock").read_text())}
    assert {
        "boto3",
        "botocore",
        "sgp4",
        "s3transfer",
        "jmespath",
        "python-dateutil",
        "six",
        "urllib3",
    } <= set(pins)
    assert all(p.hashes for p in pins.values())


def test_the_lambda_sdk_pin_is_the_one_tested_locally() -> None:
    """The zip must carry the boto3/botocore the test suite runs with (run.lock)."""
    lam = {p.key: p.version for p in parse_lock((ROOT / "requirements/lambda.lock").read_text())}
    run = {p.key: p.version for p in parse_lock((ROOT / "requirements/run.lock").read_text())}
    for name in ("boto3", "botocore", "sgp4"):
        assert lam[name] == run[name], name


def test_parse_continuations_comments_and_markers() -> None:
    text = (
        "# header\n"
        f"boto3==1.2.3 \\\n    --hash=sha256:{H1} \\\n    --hash=sha256:{H2}\n"
        "    # via -r requirements/lambda.in\n"
        f"Python_Dateutil==2.9.0.post0 ; python_version >= '3.8' \\\n    --hash=sha256:{H1}\n"
    )
    pins = parse_lock(text)
    assert [(p.key, p.version) for p in pins] == [
        ("boto3", "1.2.3"),
        ("python-dateutil", "2.9.0.post0"),
    ]
    assert pins[0].hashes == {H1, H2}
    assert pins[0].text == f"boto3==1.2.3 --hash=sha256:{H1} --hash=sha256:{H2}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"boto3>=1.2 \\\n  --hash=sha256:{H1}\n", "not an exact pin"),
        ("boto3==1.2.3\n", "has no --hash"),
        (f"boto3==1.2.3 \\\n  --hash=md5:{H1[:32]}\n", "not a sha256 hash"),
        ("--index-url https://example.invalid/simple\n", "unexpected option"),
        ("# nothing\n", "no requirements"),
    ],
)
def test_parse_rejects_anything_but_hash_pinned_requirements(text: str, message: str) -> None:
    with pytest.raises(PackagingError, match=message):
        parse_lock(text)


def test_canonical_name() -> None:
    assert (
        canonical_name("Python_Dateutil") == canonical_name("python.dateutil") == "python-dateutil"
    )


def test_find_lock_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOCK_ENV, raising=False)
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (tmp_path / "requirements").mkdir()
    found = tmp_path / "requirements" / "lambda.lock"
    found.write_text("x")
    assert find_lock(search_from=[nested]) == found
    other = tmp_path / "other.lock"
    other.write_text("y")
    monkeypatch.setenv(LOCK_ENV, str(other))
    assert find_lock(search_from=[nested]) == other
    assert find_lock(found, search_from=[]) == found
    monkeypatch.delenv(LOCK_ENV)
    # Found nowhere around: the copy of the checkout (or the one an installed wheel carries).
    assert find_lock(search_from=[Path("/")]) == resources.lambda_lock()
    assert resources.lambda_lock().is_file()
    monkeypatch.setattr(resources, "lambda_lock", lambda: tmp_path / "missing.lock")
    with pytest.raises(PackagingError, match="cannot find"):
        find_lock(search_from=[Path("/")])
