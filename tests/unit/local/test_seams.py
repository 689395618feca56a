"""Fails loudly when the moto internals crosstrack patches move (pinned version + attributes)."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

import moto
import pytest
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.responses import BaseResponse
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response

from crosstrack.local.errors import MotoSeamError
from crosstrack.local.moto import seams

ROOT = Path(__file__).resolve().parents[3]


def test_installed_moto_is_the_pinned_version() -> None:
    assert moto.__version__ == seams.PINNED_MOTO


def test_pyproject_pins_the_same_moto() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = [d for d in project["project"]["optional-dependencies"]["local"] if d.startswith("moto")]
    assert pins == [f"moto[server]=={seams.PINNED_MOTO}"]


def test_every_seam_is_where_crosstrack_expects_it() -> None:
    seams.check()  # raises MotoSeamError naming the moved attribute
    for module, cls, attribute in seams.PATCHED:
        owner = seams._resolve(module, cls)
        assert attribute in owner.__dict__, f"{module}.{cls}.{attribute} moved"


def test_the_authorization_hook_keeps_its_signature() -> None:
    hook = ActionAuthenticatorMixin._authenticate_and_authorize_action
    assert list(inspect.signature(hook).parameters) == ["self", "iam_request_cls", "resource"]
    assert list(inspect.signature(FakeBucket.get_permission).parameters) == [
        "self",
        "action",
        "resource",
    ]


def test_moto_still_routes_every_request_through_the_hook() -> None:
    # Normal services authorize in call_action; S3 handlers through the S3 variant; the
    # bucket-policy shortcut sits in _key_response. If moto moves either, enforcement
    # would silently stop: fail here instead.
    assert "_authenticate_and_authorize_normal_action" in inspect.getsource(
        BaseResponse.call_action
    )
    s3_source = inspect.getsource(S3Response)
    assert len(re.findall(r"_authenticate_and_authorize_s3_action\(", s3_source)) >= 10
    assert "get_permission" in inspect.getsource(S3Response._key_response)


def test_install_replaces_and_uninstall_restores() -> None:
    original = ActionAuthenticatorMixin.__dict__["_authenticate_and_authorize_action"]
    calls: list[tuple[bool, str]] = []
    seams.install(lambda response, is_s3, resource: calls.append((is_s3, resource)))
    try:
        assert (
            ActionAuthenticatorMixin.__dict__["_authenticate_and_authorize_action"] is not original
        )
        with pytest.raises(MotoSeamError, match="already installed"):
            seams.install(lambda *args: None)
    finally:
        seams.uninstall()
    assert ActionAuthenticatorMixin.__dict__["_authenticate_and_authorize_action"] is original
    assert not seams.installed()


def test_a_different_moto_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto, "__version__", "9.9.9")
    with pytest.raises(MotoSeamError, match=r"patches moto 5\.2\.5 internals; found moto 9\.9\.9"):
        seams.check()
