"""S3 browser-based uploads (``POST /<bucket>`` with a multipart form), verified as S3 does.

The form carries a base64 policy and its SigV4 signature
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html): the
signature is ``HMAC(signing key, policy)``, the policy must not have expired, every condition
must hold and every form field must be named by a condition. Only then is the upload an
``s3:PutObject`` on the key. moto would otherwise treat any bucket POST as an upload.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
from dataclasses import dataclass
from typing import Any

from crosstrack.local.auth import sigv4
from crosstrack.local.auth.principals import AuthenticationFailure, Caller, authenticate
from crosstrack.local.services import s3_rules
from crosstrack.local.transport.wire import WireRequest

# Fields a policy need not name (the AWS page above, "Condition matching").
_EXEMPT = {"x-amz-signature", "file", "policy"}


@dataclass(frozen=True)
class Form:
    bucket: str
    key: str
    region: str


def _fields(wire: WireRequest) -> tuple[dict[str, str], str, int]:
    from werkzeug.formparser import parse_form_data

    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": wire.header_map().get("content-type", ""),
        "CONTENT_LENGTH": str(len(wire.body)),
        "wsgi.input": io.BytesIO(wire.body),
    }
    _, form, files = parse_form_data(environ)
    upload = files.get("file")
    filename = (upload.filename or "") if upload is not None else ""
    size = len(upload.read()) if upload is not None else 0
    return {k.lower(): v for k, v in form.items()}, filename, size


def _condition_holds(condition: Any, fields: dict[str, str], bucket: str, size: int) -> str | None:
    values = dict(fields, bucket=bucket)
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, expected),) = condition.items()
        return None if values.get(name.lower()) == expected else f"{name} does not match"
    if isinstance(condition, list) and len(condition) == 3:
        operator, name, expected = condition
        if operator == "content-length-range":
            ok = int(name) <= size <= int(expected)
            return None if ok else "content-length-range"
        field = str(name).lstrip("$").lower()
        actual = values.get(field, "")
        if operator == "eq":
            return None if actual == expected else f"{field} does not match"
        if operator == "starts-with":
            return None if actual.startswith(str(expected)) else f"{field} does not match"
    return f"unknown condition {condition!r}"


def _named(condition: Any) -> str | None:
    if isinstance(condition, dict) and len(condition) == 1:
        return str(next(iter(condition))).lower()
    if (
        isinstance(condition, list)
        and len(condition) == 3
        and condition[0] != "content-length-range"
    ):
        return str(condition[1]).lstrip("$").lower()
    return None


def verify(  # noqa: PLR0911, PLR0912 - each check says why the upload is refused
    wire: WireRequest, now: dt.datetime
) -> tuple[Caller, Form] | str:
    """(caller, upload) of a valid POST-policy upload, or why it is not one."""
    bucket = wire.raw_path.strip("/")
    if not bucket or "/" in bucket or wire.raw_query:
        return "a POST upload goes to /<bucket> with no query"
    split = s3_rules.split_path("/" + bucket)
    if not isinstance(split, tuple):
        return split.reason
    try:
        fields, filename, size = _fields(wire)
    except Exception as exc:  # werkzeug raises several types for a broken form
        return f"unreadable form ({exc})"
    if fields.get("x-amz-algorithm") != sigv4.ALGORITHM:
        return f"the form is not signed with {sigv4.ALGORITHM}"
    try:
        key_id, date, region, service, terminal = fields["x-amz-credential"].split("/")
        policy_b64, signature = fields["policy"], fields["x-amz-signature"]
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
        expiration = dt.datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00"))
        conditions = list(policy["conditions"])
    except (KeyError, ValueError, TypeError) as exc:
        return f"the form's policy or credential is malformed ({exc})"
    if service != "s3" or terminal != "aws4_request":
        return "the credential scope is not s3"
    try:
        caller = authenticate(key_id, fields.get("x-amz-security-token"), now=now)
    except AuthenticationFailure as failure:
        return failure.problem.value
    key = sigv4.signing_key(caller.secret_access_key, date, region, service)
    expected = hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "the policy signature does not match"
    if expiration.tzinfo is None or expiration < now:
        return "the policy has expired"
    for condition in conditions:
        problem = _condition_holds(condition, fields, bucket, size)
        if problem:
            return f"the policy's condition fails: {problem}"
    named = {n for n in map(_named, conditions) if n}
    extra = [f for f in fields if f not in _EXEMPT | named and not f.startswith("x-ignore-")]
    if extra:
        return f"extra input fields: {', '.join(sorted(extra))}"
    object_key = fields.get("key", "").replace("${filename}", filename)
    if not object_key:
        return "the form names no key"
    return caller, Form(bucket=bucket, key=object_key, region=region)
