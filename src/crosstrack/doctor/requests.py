"""The requests the deployment really makes, built from its state.

* Lambda assumes role A as ``lambda.amazonaws.com`` with ``aws:SourceAccount`` and
  ``aws:SourceArn`` (the function) set (lambda/latest/dg/lambda-intro-execution-role.html);
  it names the session after the function.
* The reporter, as that session, calls AssumeRole on role B over TLS with the session name
  ``<ROLE_SESSION_PREFIX>-<request-id fragment>`` (reporter/session.py), ``ExternalId`` when
  ``EXTERNAL_ID`` is set, and -- because its credentials are a Lambda execution role's --
  ``lambda:SourceFunctionArn`` in the request context
  (https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html).
* As role B it gets and conditionally puts the log object over TLS 1.2 or later.
* EventBridge Scheduler assumes the schedule's role as ``scheduler.amazonaws.com`` with the
  schedule as ``aws:SourceArn`` and invokes the function with that role's session.
"""

from __future__ import annotations

from datetime import UTC, datetime

from crosstrack.doctor.model import State

# A Lambda request id (a UUID) as the reporter's session-name fragment.
SAMPLE_REQUEST_ID = "3f1c9a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
SESSION_NAME_MAX = 64
SCHEDULER_SESSION = "4c0ffee0-0000-4000-8000-000000000000"  # Scheduler's session: an id


def session_name(state: State) -> str:
    prefix = state.function.environment.get("ROLE_SESSION_PREFIX", "crosstrack")
    fragment = SAMPLE_REQUEST_ID.replace("-", "")
    room = SESSION_NAME_MAX - len(prefix) - 1
    return f"{prefix}-{fragment[:room]}"


def role_a_session(state: State) -> str:
    return f"arn:aws:sts::{state.account_a}:assumed-role/{state.role_a.name}/{state.function.name}"


def role_b_arn(state: State) -> str:
    """The role the function assumes: its ACCOUNT2_ROLE_ARN, else role B."""
    return state.function.environment.get("ACCOUNT2_ROLE_ARN") or state.role_b.arn


def role_b_session(state: State) -> str:
    return f"arn:aws:sts::{state.account_b}:assumed-role/{state.role_b.name}/{session_name(state)}"


def scheduler_session(state: State) -> str | None:
    if state.schedule_role is None:
        return None
    return (
        f"arn:aws:sts::{state.account_a}:assumed-role/{state.schedule_role.name}/"
        f"{SCHEDULER_SESSION}"
    )


def object_key(state: State, now: datetime | None = None) -> str:
    """The key the next run writes (the daily layout's key for today)."""
    key = state.function.environment.get("OBJECT_KEY") or state.object_key
    layout = state.function.environment.get("LOG_LAYOUT") or state.log_layout
    if layout != "daily":
        return key
    stem, dot, suffix = key.rpartition(".")
    if not dot or "/" in suffix:
        stem, suffix = key, ""
    day = (now or datetime.now(UTC)).strftime("%Y/%m/%d")
    return f"{stem}/{day}" + (f".{suffix}" if suffix else "")


def object_arn(state: State) -> str:
    bucket = state.function.environment.get("BUCKET_NAME") or state.bucket.name
    return f"arn:aws:s3:::{bucket}/{object_key(state)}"


def log_stream_arn(state: State) -> str:
    group = f"/aws/lambda/{state.function.name}"
    return (
        f"arn:aws:logs:{state.region}:{state.account_a}:log-group:{group}"
        ":log-stream:2025/01/01/[$LATEST]0123456789abcdef"
    )


def _org(state: State, account: str) -> dict[str, str]:
    org = state.org_ids.get(account)
    return {"aws:PrincipalOrgID": org} if org else {}


def lambda_trust_context(state: State) -> dict[str, str]:
    return {
        "aws:SecureTransport": "true",
        "aws:SourceAccount": state.account_a,
        "aws:SourceArn": state.function.arn,
    }


def assume_b_context(state: State) -> dict[str, str | tuple[str, ...]]:
    context: dict[str, str | tuple[str, ...]] = {
        "aws:SecureTransport": "true",
        "sts:RoleSessionName": session_name(state),
        "lambda:SourceFunctionArn": state.function.arn,
        **_org(state, state.account_a),
    }
    external_id = state.function.environment.get("EXTERNAL_ID")
    if external_id:
        context["sts:ExternalId"] = external_id
    for key, value in state.session_tags.items():
        context[f"aws:RequestTag/{key}"] = value
    if state.session_tags:
        context["aws:TagKeys"] = tuple(state.session_tags)
    return context


def s3_context(state: State) -> dict[str, str]:
    return {
        "aws:SecureTransport": "true",
        # The oldest TLS the reporter's botocore negotiates with S3.
        "s3:TlsVersion": "1.2",
        "s3:signatureversion": "AWS4-HMAC-SHA256",
        "s3:authType": "REST-HEADER",
        "s3:ResourceAccount": state.account_b,
        **_org(state, state.account_b),
    }


def kms_context(state: State) -> dict[str, str]:
    return {
        "aws:SecureTransport": "true",
        "kms:ViaService": f"s3.{state.region}.amazonaws.com",
        "kms:CallerAccount": state.account_b,
        "kms:EncryptionContext:aws:s3:arn": state.bucket.arn,
        **_org(state, state.account_b),
    }


def scheduler_trust_context(state: State) -> dict[str, str]:
    assert state.schedule is not None
    return {
        "aws:SecureTransport": "true",
        "aws:SourceAccount": state.account_a,
        "aws:SourceArn": state.schedule.arn,
    }
