"""Build hook: the wheel carries what the commands read at run time (package data).

``crosstrack demo`` applies ``infra/`` (root module, ``modules/``), ``crosstrack local up``
reads ``infra/bootstrap/*.json`` and ``crosstrack package`` reads ``requirements/lambda.lock``.
They stay where they are in the repository (one copy, committed once); this copies them into
``crosstrack/_data/`` of the build directory when a wheel is built, and
``crosstrack.resources`` finds them there in an installed wheel (in a checkout or an
editable install it reads the source tree). Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# Terraform's own files and personal variables never ship; infra/tests/ is for CI only.
NOT_SHIPPED = shutil.ignore_patterns(
    "tests",
    ".terraform",
    ".terraform.lock.hcl",
    "*.tfstate",
    "*.tfstate.*",
    "*.tfvars",
    "*.tfplan",
    ".gitignore",
    ".checkov.yaml",
)


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the source tree itself
        data = Path(self.build_lib) / "crosstrack" / "_data"
        shutil.rmtree(data, ignore_errors=True)
        shutil.copytree(ROOT / "infra", data / "infra", ignore=NOT_SHIPPED)
        (data / "requirements").mkdir(parents=True)
        shutil.copy2(ROOT / "requirements" / "lambda.lock", data / "requirements")


setup(cmdclass={"build_py": BuildPyWithData})
