"""What Lambda does *as* a function's execution role: obtain its credentials, write the
invocation's logs, send a failed event's record to its on-failure destination.

Each request is signed with the role's credentials, so the engine decides it like any
client's: a role without its logs permission loses its logs, a role that may not send to
the destination queue loses the record — as in AWS.
"""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from crosstrack.local.auth import function_sessions
from crosstrack.local.emulator import LocalAWS
from crosstrack.local.moto.resources import FunctionConfig
from crosstrack.local.services.service_access import AccessDeniedError, ServiceCredentials

LAMBDA_SERVICE = "lambda.amazonaws.com"


def service_client(aws: LocalAWS, creds: ServiceCredentials, service: str, region: str) -> Any:
    """A boto3 client of the local AWS acting with a service's role credentials.

    One attempt only: a service that is refused does not retry the way an SDK would.
    """
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=aws.endpoint,
        verify=str(aws.ca_bundle),
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
        # total_max_attempts counts the first try; botocore's max_attempts counts retries only.
        config=Config(retries={"total_max_attempts": 1}),
    )


def function_credentials(aws: LocalAWS, config: FunctionConfig) -> ServiceCredentials:
    """The execution-role credentials Lambda issues to the function ``config`` describes.

    Assumed as ``lambda.amazonaws.com`` (role trust checked, audited) and marked with the
    function's ARN, so every request signed with them carries ``lambda:SourceFunctionArn``.
    Raises :class:`AccessDeniedError` when the role's trust refuses Lambda.
    """
    creds = aws.services.assume_role(
        LAMBDA_SERVICE,
        config.role,
        source_account=config.account,
        source_arn=config.arn,
        session_name=config.name,
    )
    function_sessions.mark(creds.access_key_id, config.arn)
    return creds


def deliver_logs(
    aws: LocalAWS, config: FunctionConfig, creds: ServiceCredentials, stream: str, lines: list[str]
) -> str | None:
    """Write the invocation's log lines as the execution role; the error text if refused."""
    logs = service_client(aws, creds, "logs", config.region)
    group = f"/aws/lambda/{config.name}"
    now_ms = int(time.time() * 1000)
    try:
        try:
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            # Lambda creates the group on first write when the role may do so.
            logs.create_log_group(logGroupName=group)
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            # PutLogEvents refuses empty messages; Lambda drops blank lines too.
            logEvents=[{"timestamp": now_ms, "message": line} for line in lines if line],
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return f"{error.get('Code')}: {error.get('Message')}"
    except BotoCoreError as exc:
        return str(exc)
    return None


def send_failure_record(
    aws: LocalAWS,
    config: FunctionConfig,
    event: Any,
    *,
    request_id: str,
    error: dict[str, Any] | None,
    attempts: int,
) -> None:
    """Send Lambda's invocation record to the on-failure destination (SQS), as the role.

    Record shape: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    """
    destination = config.on_failure_destination or ""
    if ":sqs:" not in destination:
        return  # only SQS destinations are delivered locally (the infra uses SQS)
    record = {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{config.arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": error,
    }
    try:
        creds = function_credentials(aws, config)
    except AccessDeniedError:
        return
    _, _, _, region, account, queue = destination.split(":", 5)
    sqs = service_client(aws, creds, "sqs", region)
    url = f"{aws.endpoint}/{account}/{queue}"
    # As in AWS, a destination the role cannot reach silently drops the record.
    with contextlib.suppress(ClientError, BotoCoreError):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record, default=str))
