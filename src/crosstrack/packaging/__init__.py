"""Packaging of the Lambda artifact: ``crosstrack package`` (design.md, "Lambda artifact").

Never imported by the reporter; the zip it builds holds ``crosstrack.reporter`` and the
locked wheels of ``requirements/lambda.lock`` for one Lambda runtime and architecture.
"""

from __future__ import annotations

from crosstrack.packaging.errors import PackagingError
from crosstrack.packaging.lambda_zip import (
    DEFAULT_OUTPUT,
    PackageResult,
    build_lambda_zip,
    filebase64sha256,
    write_deterministic_zip,
)
from crosstrack.packaging.wheels import ARCHITECTURES, PYTHON_VERSIONS, Target

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_OUTPUT",
    "PYTHON_VERSIONS",
    "PackageResult",
    "PackagingError",
    "Target",
    "build_lambda_zip",
    "filebase64sha256",
    "write_deterministic_zip",
]
