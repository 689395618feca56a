"""A failure of the engine that is not an invalid policy: a 500 in the service's error
format with the traceback on stderr, never an audited deny (its own module: one local AWS
per process, and this one runs with a broken engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.local_helpers import client

from crosstrack.iam import Decision
from crosstrack.local import LocalAWS


def test_an_engine_bug_is_a_500_in_the_service_format(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Decision:
        raise ZeroDivisionError("a bug")

    with LocalAWS(tmp_path / "w", engine=broken) as running:
        with pytest.raises(ClientError) as failed:
            client(running, "s3").list_buckets()
        with pytest.raises(ClientError) as failed_query:
            client(running, "iam").list_roles()
        audit = running.audit_log.read_text()
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert failed.value.response["Error"]["Code"] == "InternalError"
    assert failed_query.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert failed_query.value.response["Error"]["Code"] == "InternalFailure"
    assert "ZeroDivisionError: a bug" in capfd.readouterr().err
    assert "implicitDeny" not in audit
