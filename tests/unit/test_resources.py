"""Run-time files in a checkout: read from the source tree (the wheel's copy is tested in
tests/integration/test_wheel_install.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crosstrack import resources

REPO = Path(__file__).resolve().parents[2]


def test_a_checkout_reads_its_own_tree() -> None:
    assert resources.infra_dir() == REPO / "infra"
    assert resources.bootstrap_dir() == REPO / "infra" / "bootstrap"
    assert resources.bootstrap_dir(Path("/elsewhere")) == Path("/elsewhere/bootstrap")
    assert resources.lambda_lock() == REPO / "requirements" / "lambda.lock"
    assert not resources.PACKAGED.exists(), "src/crosstrack/_data is built, never committed"


def test_demo_infra_flag_must_name_a_root_module(tmp_path: Path) -> None:
    pytest.importorskip("moto")
    from crosstrack.local.run.demo import DemoError, find_infra

    assert find_infra() == REPO / "infra"
    assert find_infra(REPO / "infra") == REPO / "infra"
    with pytest.raises(DemoError, match="is not a Terraform root module"):
        find_infra(tmp_path)
