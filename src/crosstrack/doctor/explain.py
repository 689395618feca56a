"""``crosstrack doctor explain``: an AccessDenied as users paste it, or a CloudTrail event,
into (principal, action, resource, the policy type AWS blamed).

Shapes understood (tests/unit/doctor/test_explain.py holds a real example of each):

* IAM/STS/Lambda/KMS: ``User: <arn> is not authorized to perform: <action> on resource:
  <arn> because no <type> policy allows the <action> action`` / ``with an explicit deny in
  a(n) <type> policy[: <policy arn>]`` (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html),
  bare or inside an SDK/CLI line ``An error occurred (AccessDenied) when calling the X
  operation: ...``; KMS's ``... on the resource associated with this ciphertext ...``;
* S3's XML error body (``<Code>AccessDenied</Code><Message>...``), with or without the
  detailed message, and the CLI's ``upload failed: ... to s3://b/k An error occurred
  (AccessDenied) when calling the PutObject operation: Access Denied``;
* a CloudTrail event (one event, ``lookup-events`` output with ``CloudTrailEvent`` strings, or
  a trail file's ``Records``) and the local AWS's audit entries (audit.jsonl lines).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import unescape
from typing import Any

from crosstrack.doctor.model import DoctorInputError

_USER = re.compile(
    r"User: (?P<principal>\S+) is not authorized to perform: (?P<action>[\w-]+:[\w*-]+)"
    r"(?: on (?:resource: \"?(?P<resource>[^\"\s]+)\"?|the resource (?P<assoc>associated with "
    r"this ciphertext)))?(?P<rest>.*)",
    re.DOTALL,
)
# "because no identity-based policy allows", "... no resource-based policies allow access",
# "because no permissions boundary allows"
_BECAUSE = re.compile(r"\bno (?P<type>[\w-]+(?: [\w-]+)??) (?:polic(?:y|ies)|boundary) allows?")
_EXPLICIT = re.compile(r"with an explicit deny in an? (?P<type>[\w -]+?) policy(?:: (?P<arn>\S+))?")
_OPERATION = re.compile(
    r"An error occurred \((?P<code>\w+)\) when calling the (?P<op>\w+) operation"
)
_S3_URL = re.compile(r"s3://(?P<bucket>[^/\s]+)/(?P<key>\S+)")
_XML = re.compile(r"<Code>(?P<code>[^<]+)</Code>\s*<Message>(?P<message>[^<]*)</Message>", re.S)
_XML_KEY = re.compile(r"<(?:Key|Resource)>(?P<key>[^<]+)</(?:Key|Resource)>")
_XML_BUCKET = re.compile(r"<BucketName>(?P<bucket>[^<]+)</BucketName>")

# CloudTrail's eventSource prefix -> IAM action prefix
_SOURCES = {
    "s3": "s3",
    "sts": "sts",
    "kms": "kms",
    "lambda": "lambda",
    "iam": "iam",
    "logs": "logs",
    "scheduler": "scheduler",
    "sqs": "sqs",
}


@dataclass(frozen=True)
class Denial:
    """What the message says: fields it does not say are None."""

    principal: str | None
    action: str | None
    resource: str | None
    blamed: str | None  # "identity-based policy", "resource-based policy", ...
    explicit: bool
    policy_arn: str | None = None
    shape: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "blamed": self.blamed,
            "explicit": self.explicit,
            "policy_arn": self.policy_arn,
            "shape": self.shape,
        }


def _blame(rest: str) -> tuple[str | None, bool, str | None]:
    explicit = _EXPLICIT.search(rest)
    if explicit:
        return f"{explicit['type']} policy", True, (explicit["arn"] or "").rstrip(".") or None
    because = _BECAUSE.search(rest)
    if because:
        kind = because["type"].strip()
        word = "permissions boundary" if kind == "permissions" else f"{kind} policy"
        return word, False, None
    return None, False, None


def parse_text(text: str) -> Denial:
    """Parse a pasted error message (any shape above). Raises DoctorInputError if none fits."""
    text = unescape(text.strip())
    if text.startswith("{"):
        return parse_event(text)
    xml = _XML.search(text)
    message = xml["message"] if xml else text
    user = _USER.search(message)
    operation = _OPERATION.search(text)
    if user:
        blamed, explicit, arn = _blame(user["rest"])
        resource = user["resource"] or (f"({user['assoc']})" if user["assoc"] else None)
        shape = "xml" if xml else ("sdk" if operation else "iam")
        return Denial(user["principal"], user["action"], resource, blamed, explicit, arn, shape)
    if xml or (operation and "Access Denied" in text):
        service = "s3" if (xml or "s3://" in text) else None
        action = f"{service}:{operation['op']}" if operation and service else None
        if operation and operation["op"] in ("PutObject", "GetObject", "HeadObject"):
            action = "s3:GetObject" if operation["op"] == "HeadObject" else f"s3:{operation['op']}"
        resource = None
        url = _S3_URL.search(text)
        if url:
            resource = f"arn:aws:s3:::{url['bucket']}/{url['key']}"
        elif xml:
            bucket, key = _XML_BUCKET.search(text), _XML_KEY.search(text)
            if bucket and key:
                resource = f"arn:aws:s3:::{bucket['bucket']}/{key['key'].lstrip('/')}"
        return Denial(None, action, resource, None, False, None, "s3-xml" if xml else "s3-cli")
    raise DoctorInputError(
        "not an AccessDenied message crosstrack knows: paste the whole line (it starts with "
        "'User: ... is not authorized', 'An error occurred (AccessDenied)' or '<Error>'), or "
        "pass the CloudTrail event with --event FILE"
    )


def _event_list(loaded: Any) -> list[dict[str, Any]]:
    if isinstance(loaded, dict) and "Events" in loaded:  # aws cloudtrail lookup-events
        return [
            json.loads(e["CloudTrailEvent"]) for e in loaded["Events"] if "CloudTrailEvent" in e
        ]
    if isinstance(loaded, dict) and "Records" in loaded:  # a trail's delivered file
        return [r for r in loaded["Records"] if isinstance(r, dict)]
    if isinstance(loaded, list):
        return [r for r in loaded if isinstance(r, dict)]
    return [loaded] if isinstance(loaded, dict) else []


def parse_event(text: str) -> Denial:
    """The first denied event in ``text``: CloudTrail JSON or local audit.jsonl lines."""
    try:
        loaded: Any = json.loads(text)
    except ValueError:
        try:
            loaded = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise DoctorInputError(f"not JSON: {exc}") from None
    for event in _event_list(loaded):
        if "decision" in event and "action" in event:  # the local AWS's audit entry
            if event["decision"] == "allowed":
                continue
            layer = {
                "identity": "identity-based policy",
                "resource_policy": "resource-based policy",
                "permission_boundary": "permissions boundary policy",
                "session_policy": "session policy",
                "scp": "service control policy",
                "rcp": "resource control policy",
            }.get(str(event.get("decided_by")))
            return Denial(
                event.get("principal"),
                event.get("action"),
                event.get("resource"),
                layer,
                event["decision"] == "explicitDeny",
                None,
                "local-audit",
            )
        code = str(event.get("errorCode", ""))
        if "AccessDenied" not in code and "Unauthorized" not in code:
            continue
        message = str(event.get("errorMessage", ""))
        user = _USER.search(message)
        if user:
            blamed, explicit, arn = _blame(user["rest"])
            return Denial(
                user["principal"],
                user["action"],
                user["resource"],
                blamed,
                explicit,
                arn,
                "cloudtrail",
            )
        identity = event.get("userIdentity") or {}
        source = str(event.get("eventSource", "")).split(".", 1)[0]
        params = event.get("requestParameters") or {}
        resource = params.get("roleArn")
        if params.get("bucketName") and params.get("key"):
            resource = f"arn:aws:s3:::{params['bucketName']}/{params['key']}"
        return Denial(
            identity.get("arn"),
            f"{_SOURCES.get(source, source)}:{event.get('eventName')}",
            resource,
            None,
            False,
            None,
            "cloudtrail",
        )
    raise DoctorInputError("no denied request in the event(s) given")


# Which doctor rows can explain a denied action.
ROWS_FOR_ACTION = {
    "lambda:invokefunction": ("0.invoke", "0.schedule-trust", "0.schedule"),
    "logs:putlogevents": ("0.logs",),
    "logs:createlogstream": ("0.logs",),
    "sts:assumerole": ("1.trust", "1.role", "2.assume", "2.target", "2.duration", "3.trust"),
    "sts:tagsession": ("3.tags",),
    "s3:putobject": ("4.put", "5.bucket", "5.kms"),
    "s3:getobject": ("4.get", "5.bucket", "5.kms"),
    "kms:generatedatakey": ("5.kms",),
    "kms:decrypt": ("5.kms",),
}


def relevant_rows(denial: Denial) -> tuple[str, ...] | None:
    """The row ids that judge this request (None: every row)."""
    if denial.action is None:
        return None
    return ROWS_FOR_ACTION.get(denial.action.lower())
