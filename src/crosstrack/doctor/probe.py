"""``--probe``: the real calls beside the predictions (live and local AWS; never writes).

Where the caller may, it assumes role A, then -- as role A, with the reporter's ExternalId
and session duration -- role B, then heads the log object as role B (HeadObject needs
s3:GetObject: https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html). Each
observation becomes a ``probe.*`` row: ``pass`` when it agrees with the prediction, ``fail``
when it does not. A step the caller may not take (only Lambda may assume role A) is said so,
and the later steps stay predictions. When role A's policy conditions on
``lambda:SourceFunctionArn`` (infra/ binds role B to the reporter function so), only the
function's own credentials carry that key: the caller's role A session is refused role B by
design, so ``probe.assume-b`` is "not comparable" (never a disagreement) and links 4-5 stay
predictions.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from crosstrack.doctor import requests as rq
from crosstrack.doctor.model import Row, State, Verdict

_SESSION = "crosstrack-doctor-probe"


def _predicted(rows: list[Row], *ids: str) -> bool | None:
    """Allowed (True), denied (False), or unknown (None) by the prediction rows ``ids``."""
    verdicts = [r.verdict for r in rows if r.id in ids]
    if not verdicts or Verdict.UNKNOWN in verdicts:
        return None
    return all(v is not Verdict.FAIL for v in verdicts)


def _session(parent: Any, creds: dict[str, Any], region: str) -> Any:
    """A session with ``creds`` and the parent profile's configuration (endpoint, CA)."""
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
        profile_name=parent.profile_name if parent.profile_name != "default" else None,
    )


def _call(fn: Any) -> tuple[bool, str, Any]:
    try:
        return True, "allowed", fn()
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            return True, "allowed (the object does not exist yet: 404)", None
        return False, f"{code}: {err.get('Message', '')}".strip(), None
    except BotoCoreError as exc:
        return False, str(exc), None


def _row(  # noqa: PLR0917 - a row's fields in order
    id_: str,
    link: int,
    principal: str,
    action: str,
    resource: str,
    predicted: bool | None,
    observed: bool,
    what: str,
    basis: str,
) -> Row:
    said = {True: "allowed", False: "denied", None: "unknown"}[predicted]
    agree = predicted is None or predicted == observed
    return Row(
        id_,
        link,
        Verdict.PASS if agree else Verdict.FAIL,
        principal,
        action,
        resource,
        None,
        f"predicted {said} ({basis}); observed {what}",
        ""
        if agree
        else "the prediction and AWS disagree: the doctor's model misses "
        "something here (an SCP, RCP or a condition it cannot see); please report it",
    )


def probe_rows(state: State, a: Any, b: Any, rows: list[Row]) -> list[Row]:
    """Probe rows for ``state`` with the caller sessions ``a`` and ``b``."""
    region = state.region
    out: list[Row] = []
    sts = a.client("sts", region_name=region)
    ok, what, got = _call(
        lambda: sts.assume_role(
            RoleArn=state.role_a.arn, RoleSessionName=_SESSION, DurationSeconds=900
        )
    )
    out.append(
        Row(
            "probe.assume-a",
            1,
            Verdict.PASS,
            "the caller",
            "sts:AssumeRole",
            state.role_a.arn,
            None,
            "the caller assumed role A: probing the reporter's steps as role A"
            if ok
            else f"not probed: the caller may not assume role A ({what}); only Lambda needs to. "
            "Links 2-5 stay predictions.",
            "",
        )
    )
    if not ok:
        return out
    role_a = _session(a, got["Credentials"], region)
    params: dict[str, Any] = {
        "RoleArn": rq.role_b_arn(state),
        "RoleSessionName": _SESSION,
        "DurationSeconds": state.session_seconds,
    }
    if state.function.environment.get("EXTERNAL_ID"):
        params["ExternalId"] = state.function.environment["EXTERNAL_ID"]
    sts_a = role_a.client("sts", region_name=region)
    ok, what, got = _call(lambda: sts_a.assume_role(**params))
    source_bound = (
        "lambda:sourcefunctionarn"
        in json.dumps([p.document for p in state.role_a.identity_policies]).lower()
    )
    predicted = None if source_bound else _predicted(rows, "2.assume", "3.trust")
    basis = (
        (
            "not comparable: role A's policy conditions on lambda:SourceFunctionArn, which only "
            "Lambda's credentials carry"
        )
        if source_bound
        else "rows 2.assume, 3.trust"
    )
    out.append(
        _row(
            "probe.assume-b",
            3,
            f"role A session {_SESSION}",
            "sts:AssumeRole",
            params["RoleArn"],
            predicted,
            ok,
            what,
            basis,
        )
    )
    if not ok:
        # Role B was not reached (refused as predicted, or not comparable): the head step
        # cannot be taken, so links 4-5 stay predictions, as with a role A the caller may not
        # assume.
        last = out.pop()
        out.append(replace(last, evidence=f"{last.evidence}. Links 4-5 stay predictions."))
        return out
    role_b = _session(b, got["Credentials"], region)
    s3 = role_b.client("s3", region_name=region)
    bucket = state.function.environment.get("BUCKET_NAME") or state.bucket.name
    key = rq.object_key(state)
    ok, what, _ = _call(lambda: s3.head_object(Bucket=bucket, Key=key))
    out.append(
        _row(
            "probe.head",
            5,
            f"role B session {_SESSION}",
            "s3:GetObject (HeadObject)",
            rq.object_arn(state),
            _predicted(rows, "4.get", "5.bucket"),
            ok,
            what,
            "rows 4.get, 5.bucket",
        )
    )
    return out
