"""A failure of the engine that is not an invalid policy: a 500 in the service's error
format with the traceback on stderr, never an audited deny (its own module: one local AWS
per process, and this one runs with a broken engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from crosstrack.iam import Decision
from crosstrack.local import LocalAWS


def _client(aws: LocalAWS, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=aws.endpoint,
        verify=str(aws.ca_bundle),
        region_name="us-east-1",
        aws_access_key_id=aws.operator.access_key_id,
        aws_secret_access_key=aws.operator.secret_access_key,
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_an_engine_bug_is_a_500_in_the_service_format(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Decision:
        raise ZeroDivisionError("a bug")

    with LocalAWS(tmp_path / "w", engine=broken) as running:
        with pytest.raises(ClientError) as failed:
            _client(running, "s3").list_buckets()
        with pytest.raises(ClientError) as failed_query:
            _client(running, "iam").list_roles()
        audit = running.audit_log.read_text()
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert failed.value.response["Error"]["Code"] == "InternalError"
    assert failed_query.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert failed_query.value.response["Error"]["Code"] == "InternalFailure"
    assert "ZeroDivisionError: a bug" in capfd.readouterr().err
    assert "implicitDeny" not in audit
