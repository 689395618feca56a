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

from crosstrack.doctor.model import DoctorInputError, printable

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


def _printable(value: object) -> str | None:
    """``value`` if it is a non-empty string, printable (pasted text is hostile); else None."""
    return printable(value) if isinstance(value, str) and value else None


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

    def __post_init__(self) -> None:
        # Every field comes from pasted text or a JSON file: keep strings only, printable.
        for name in ("principal", "action", "resource", "blamed", "policy_arn"):
            object.__setattr__(self, name, _printable(getattr(self, name)))
        object.__setattr__(self, "explicit", self.explicit is True)

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


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _event_list(loaded: Any) -> list[dict[str, Any]]:
    """The events in any of the accepted containers; entries of the wrong type are skipped."""
    if isinstance(loaded, dict) and "Events" in loaded:  # aws cloudtrail lookup-events
        events = []
        for entry in loaded["Events"] if isinstance(loaded["Events"], list) else []:
            raw = _dict(entry).get("CloudTrailEvent")
            try:
                events.append(json.loads(raw) if isinstance(raw, str) else None)
            except ValueError:
                continue
        return [e for e in events if isinstance(e, dict)]
    if isinstance(loaded, dict) and "Records" in loaded:  # a trail's delivered file
        records = loaded["Records"]
        return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []
    if isinstance(loaded, list):
        return [r for r in loaded if isinstance(r, dict)]
    return [loaded] if isinstance(loaded, dict) else []


def _json_lines(text: str) -> list[Any]:
    """audit.jsonl: one JSON value a line; lines that are not JSON (a torn last write, garbage)
    are skipped, but a text with no JSON line at all is not an event file."""
    loaded, error = [], None
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            loaded.append(json.loads(line))
        except ValueError as exc:
            error = error or exc
    if not loaded:
        raise DoctorInputError(f"not JSON: {error or 'empty input'}")
    return loaded


_LAYERS = {
    "identity": "identity-based policy",
    "resource_policy": "resource-based policy",
    "permission_boundary": "permissions boundary policy",
    "session_policy": "session policy",
    "scp": "service control policy",
    "rcp": "resource control policy",
}


def parse_event(text: str) -> Denial:
    """The first denied event in ``text``: CloudTrail JSON or local audit.jsonl lines."""
    try:
        loaded: Any = json.loads(text)
    except ValueError:
        loaded = _json_lines(text)
    for event in _event_list(loaded):
        if "decision" in event and "action" in event:  # the local AWS's audit entry
            if event["decision"] == "allowed" or not isinstance(event["decision"], str):
                continue
            return Denial(
                event.get("principal"),
                event.get("action"),
                event.get("resource"),
                _LAYERS.get(str(event.get("decided_by"))),
                event["decision"] == "explicitDeny",
                None,
                "local-audit",
            )
        code = event.get("errorCode")
        if not isinstance(code, str) or ("AccessDenied" not in code and "Unauthorized" not in code):
            continue
        message = event.get("errorMessage")
        user = _USER.search(message) if isinstance(message, str) else None
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
        source = event.get("eventSource")
        prefix = source.split(".", 1)[0] if isinstance(source, str) else ""
        name = event.get("eventName")
        params = _dict(event.get("requestParameters"))
        resource = params.get("roleArn")
        bucket, key = params.get("bucketName"), params.get("key")
        if isinstance(bucket, str) and isinstance(key, str) and bucket and key:
            resource = f"arn:aws:s3:::{bucket}/{key}"
        return Denial(
            _dict(event.get("userIdentity")).get("arn"),
            f"{_SOURCES.get(prefix, prefix)}:{name}" if prefix and isinstance(name, str) else None,
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
