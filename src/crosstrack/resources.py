"""Where the files the commands read at run time are, in a checkout and in an installed wheel.

``crosstrack demo`` applies the Terraform of ``infra/`` (root module and ``modules/``),
``crosstrack local up`` creates account B's deploy role from ``infra/bootstrap/*.json``, and
``crosstrack package`` installs the pins of ``requirements/lambda.lock``. In a checkout (or an
editable install of one) they are read from the source tree, so an edit shows at once; a
wheel carries copies under ``crosstrack/_data/``, made at build time by ``setup.py`` (nothing
under ``_data`` is committed). Standard library only.
"""

from __future__ import annotations

from pathlib import Path

PACKAGED = Path(__file__).resolve().parent / "_data"


def _source_root() -> Path | None:
    """The checkout this module runs from (``src/crosstrack/`` → the repository), if any."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "infra" / "main.tf").is_file():
        return root
    return None


def data_root() -> Path:
    """The directory holding ``infra/`` and ``requirements/``: the checkout, else the wheel's
    packaged copy."""
    return _source_root() or PACKAGED


def infra_dir() -> Path:
    """The Terraform root module the demo applies (with its ``modules/`` and ``bootstrap/``)."""
    return data_root() / "infra"


def bootstrap_dir(infra: Path | None = None) -> Path:
    """The deploy role's JSON: ``bootstrap/`` of ``infra`` (default :func:`infra_dir`)."""
    return (infra if infra is not None else infra_dir()) / "bootstrap"


def lambda_lock() -> Path:
    """The pinned, hash-checked requirements of the Lambda zip."""
    return data_root() / "requirements" / "lambda.lock"
