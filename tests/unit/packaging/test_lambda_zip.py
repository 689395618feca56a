"""The deterministic zip writer and the wheel/source collection (no network)."""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from crosstrack.packaging import PackagingError, filebase64sha256, write_deterministic_zip
from crosstrack.packaging.lambda_zip import ZIP_EPOCH, source_entries, wheel_entries

SRC = Path(__file__).resolve().parents[3] / "src" / "crosstrack"


def _tree(root: Path, files: dict[str, bytes], *, mtime: int, mode: int, reverse: bool) -> None:
    for name in sorted(files, reverse=reverse):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])
        path.chmod(mode)
        os.utime(path, (mtime, mtime))


def test_same_content_gives_identical_bytes_whatever_mtime_mode_and_order(tmp_path: Path) -> None:
    files = {
        "crosstrack/__init__.py": b"",
        "crosstrack/reporter/__init__.py": b"# r\n",
        "crosstrack/reporter/handler.py": b"def lambda_handler(e, c):\n    return {}\n",
        "crosstrack/reporter/data/iss.tle": b"1 25544U ...\n2 25544 ...\n",
    }
    outputs = []
    for i, (mtime, mode, reverse) in enumerate(
        [(1_000_000, 0o600, False), (2_000_000_000, 0o755, True)]
    ):
        root = tmp_path / f"tree{i}"
        _tree(root, files, mtime=mtime, mode=mode, reverse=reverse)
        entries = {name: (root / name).read_bytes() for name in files}
        out = tmp_path / f"out{i}.zip"
        write_deterministic_zip(entries, out)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_entries_sorted_fixed_time_and_mode_and_files_only(tmp_path: Path) -> None:
    out = tmp_path / "x.zip"
    write_deterministic_zip({"b/z.py": b"z", "a.py": b"a", "b/a.so": b"\x7fELF"}, out)
    with zipfile.ZipFile(out) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["a.py", "b/a.so", "b/z.py"]
        assert {i.date_time for i in infos} == {ZIP_EPOCH}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}
        assert {i.create_system for i in infos} == {3}
        assert archive.read("b/a.so") == b"\x7fELF"
        assert archive.testzip() is None


def test_filebase64sha256_matches_terraform_definition(tmp_path: Path) -> None:
    path = tmp_path / "f.zip"
    path.write_bytes(b"crosstrack" * 1000)
    expected = base64.b64encode(hashlib.sha256(b"crosstrack" * 1000).digest()).decode()
    assert filebase64sha256(path) == expected


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path: Path) -> None:
    out = tmp_path / "dist" / "lambda.zip"
    write_deterministic_zip({"a.py": b"1"}, out)
    write_deterministic_zip({"a.py": b"2"}, out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["lambda.zip"]
    with zipfile.ZipFile(out) as archive:
        assert archive.read("a.py") == b"2"


def test_source_entries_are_the_package_init_errors_and_reporter_only() -> None:
    entries = source_entries(SRC)
    assert "crosstrack/__init__.py" in entries
    assert "crosstrack/errors.py" in entries
    assert "crosstrack/reporter/handler.py" in entries
    assert all(
        name in {"crosstrack/__init__.py", "crosstrack/errors.py"}
        or name.startswith("crosstrack/reporter/")
        for name in entries
    )
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in entries)
    # The bundled TLE (package data) travels with the code.
    assert any(name.startswith("crosstrack/reporter/data/") for name in entries)


def test_source_entries_skip_bytecode(tmp_path: Path) -> None:
    pkg = tmp_path / "crosstrack"
    (pkg / "reporter" / "__pycache__").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("")
    (pkg / "reporter" / "handler.py").write_text("x = 1\n")
    (pkg / "reporter" / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\0")
    (pkg / "reporter" / "stale.pyc").write_bytes(b"\0")
    assert sorted(source_entries(pkg)) == [
        "crosstrack/__init__.py",
        "crosstrack/errors.py",
        "crosstrack/reporter/handler.py",
    ]


def test_source_entries_refuse_a_directory_that_is_not_crosstrack(tmp_path: Path) -> None:
    with pytest.raises(PackagingError, match="does not look like"):
        source_entries(tmp_path)


def _wheel(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def test_wheel_entries_install_layout(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path / "demo-1.0-py3-none-any.whl",
        {
            "demo/__init__.py": b"",
            "demo/__pycache__/x.cpython-311.pyc": b"\0",
            "demo-1.0.dist-info/METADATA": b"Name: demo\n",
            "demo-1.0.data/purelib/demo_extra.py": b"e",
            "demo-1.0.data/platlib/_demo.so": b"so",
            "demo-1.0.data/scripts/demo": b"#!/bin/sh\n",
            "demo-1.0.data/headers/demo.h": b"",
        },
    )
    assert sorted(wheel_entries(wheel)) == [
        "_demo.so",
        "demo-1.0.dist-info/METADATA",
        "demo/__init__.py",
        "demo_extra.py",
    ]


def test_wheel_entries_reject_path_traversal(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "evil-1.0-py3-none-any.whl", {"../../etc/cron.d/x": b"boom"})
    with pytest.raises(PackagingError, match="unsafe path"):
        wheel_entries(wheel)
