"""Deciding an S3 request: every action it needs (s3_rules.py), bucket policies, the
missing-key rule, SSE-KMS key policies, DeleteObjects per key, and browser POST uploads."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from crosstrack.local.accounts import PARTITION
from crosstrack.local.auth import actions, denials, form_upload, policies, tag_context
from crosstrack.local.auth.denials import AwsErrorResponse, Problem
from crosstrack.local.auth.operations import Classified
from crosstrack.local.auth.principals import Caller
from crosstrack.local.moto.resources import bucket_region, has_object, stored_object
from crosstrack.local.services import s3_rules
from crosstrack.local.transport.wire import WireRequest

if TYPE_CHECKING:
    from crosstrack.local.auth.enforcer import Enforcer


# Operations not tied to one bucket's region: CreateBucket (moto checks its
# LocationConstraint against the signing region, as S3 does) and GetBucketLocation (S3 checks
# its signing region against the endpoint's, and the local endpoint serves every region; it
# is how a client learns a bucket's region). ListBuckets names no bucket.
_ANY_REGION = frozenset({"CreateBucket", "GetBucketLocation"})


class WrongRegion(AwsErrorResponse):
    """S3's 400 for a request signed for a region other than its bucket's: the expected region
    in the message, a ``<Region>`` element and the ``x-amz-bucket-region`` header, which SDKs
    read to retry in the right region."""

    def __init__(self, signed: str, expected: str, *, presigned: bool, request_id: str) -> None:
        self.expected = expected
        if presigned:
            code, message = (
                "AuthorizationQueryParametersError",
                "Error parsing the X-Amz-Credential parameter",
            )
        else:
            code, message = "AuthorizationHeaderMalformed", "The authorization header is malformed"
        message += f"; the region '{signed}' is wrong; expecting '{expected}'"
        super().__init__("s3", 400, code, message, request_id)

    def _body(self) -> str:
        return (
            super()
            ._body()
            .replace("<RequestId>", f"<Region>{escape(self.expected)}</Region><RequestId>", 1)
        )

    def get_headers(self, *args: object, **kwargs: object) -> list[tuple[str, str]]:
        return [*super().get_headers(*args, **kwargs), ("x-amz-bucket-region", self.expected)]


def check_region(enforcer: Enforcer, wire: WireRequest, region: str, found: Classified) -> None:
    """Refuse a request for an existing bucket signed for another region than the bucket's
    (AWS: 400 AuthorizationHeaderMalformed, or AuthorizationQueryParametersError for a
    presigned URL, "the region '<signed>' is wrong; expecting '<bucket's>'"). A missing
    bucket is left to moto (NoSuchBucket)."""
    bucket = found.params.get("Bucket")
    if found.operation in _ANY_REGION or not isinstance(bucket, str):
        return
    expected = bucket_region(bucket)
    if expected is None or expected == region:
        return
    presigned = "X-Amz-Signature" in dict(_pairs(wire.raw_query))
    error = WrongRegion(region, expected, presigned=presigned, request_id=wire.request_id)
    enforcer.reject(wire, Problem.MALFORMED_AUTH, error.aws_message)
    raise error


def enforce(
    enforcer: Enforcer, wire: WireRequest, caller: Caller, region: str, found: Classified
) -> None:
    check_region(enforcer, wire, region, found)
    headers = wire.header_map()
    unchecked = s3_rules.unchecked_conditions(found.operation, headers)
    if unchecked:
        raise enforcer.unsupported(
            wire, "s3", f"s3:{found.operation} with {', '.join(unchecked)} (moto ignores it)"
        )
    if found.operation == "DeleteObjects":
        _delete_objects(enforcer, wire, caller, region, found)
        return
    needs = s3_rules.needs(found, headers)
    if isinstance(needs, str):
        # S3's answer to a copy source it cannot read (API_CopyObject.html: InvalidArgument).
        enforcer.reject(wire, Problem.MALFORMED_INPUT, needs)
        raise denials.s3_error(400, "InvalidArgument", needs, wire.request_id)
    for need in needs:
        decide(enforcer, wire, caller, region=region, need=need, operation=found.operation)


def decide(
    enforcer: Enforcer,
    wire: WireRequest,
    caller: Caller,
    *,
    region: str,
    need: s3_rules.Need,
    operation: str,
) -> bool:
    """Ask the engine about one need; raise the S3 AccessDenied unless it is allowed."""
    verdict_ok, error = _ask(enforcer, wire, caller, region, need)
    if error is not None:
        raise error
    if need.bucket and need.key and need.note is None:
        if operation in ("GetObject", "HeadObject"):
            _missing_key_rule(enforcer, wire, caller, region, bucket=need.bucket, key=need.key)
            _kms_for_read(enforcer, wire, caller, region, bucket=need.bucket, key=need.key)
        if need.action == "s3:PutObject":
            _kms_for_write(enforcer, wire, caller, region, need.bucket)
    return verdict_ok


def _ask(
    enforcer: Enforcer, wire: WireRequest, caller: Caller, region: str, need: s3_rules.Need
) -> tuple[bool, denials.AwsErrorResponse | None]:
    bucket = need.bucket
    owner = (policies.bucket_account(bucket) if bucket else None) or caller.account
    query = dict(_pairs(wire.raw_query))
    context = enforcer.base_context(wire, caller, region, owner)
    context.update(actions.s3_context(need.action[3:], query, wire.header_map()))
    context["s3:ResourceAccount"] = owner
    context["s3:signatureversion"] = "AWS4-HMAC-SHA256"
    context["s3:authType"] = "REST-QUERY-STRING" if "X-Amz-Signature" in query else "REST-HEADER"
    bucket_policy = policies.bucket_policy(bucket) if bucket else None
    question = policies.question(
        caller,
        need.action,
        resource=need.resource,
        resource_account=owner,
        context=context,
        resource_policy=bucket_policy,
    )
    verdict = enforcer.ask(wire, question, note=need.note)
    if not verdict.allowed:
        return False, enforcer.deny("s3", wire, caller, question, verdict)
    wire.decided.add((need.action, need.resource))
    return True, None


def _pairs(raw_query: str) -> list[tuple[str, str]]:
    return parse_qsl(raw_query, keep_blank_values=True)


def _delete_objects(
    enforcer: Enforcer, wire: WireRequest, caller: Caller, region: str, found: Classified
) -> None:
    """DeleteObjects: s3:DeleteObject (or s3:DeleteObjectVersion with a VersionId) per key;
    S3 answers 200 with an AccessDenied entry for each key refused
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html)."""
    request = s3_rules.parse_delete(wire.body)
    if request is None:
        enforcer.reject(wire, Problem.MALFORMED_AUTH, "DeleteObjects body: MalformedXML")
        raise denials.s3_error(400, "MalformedXML", s3_rules.MALFORMED_XML, wire.request_id)
    conditional = sorted({name for entry in request.entries for name in entry.conditions})
    if conditional:
        raise enforcer.unsupported(
            wire, "s3", f"s3:DeleteObjects with {', '.join(conditional)} (moto ignores them)"
        )
    bucket = str(found.params["Bucket"])
    denied = []
    for entry in request.entries:
        action = "s3:DeleteObjectVersion" if entry.version_id else "s3:DeleteObject"
        need = s3_rules.Need(action, bucket, entry.key, note="DeleteObjects")
        allowed, _ = _ask(enforcer, wire, caller, region, need)
        if not allowed:
            denied.append(entry)
    # moto always gets the body as decided, written afresh: its xmltodict reading of the
    # client's own (a namespace prefix, odd whitespace) could differ, or crash.
    wire.body_for_moto = s3_rules.without(request, denied)
    if denied:
        wire.delete_errors = s3_rules.denied_errors(denied)
        wire.nothing_for_moto = len(denied) == len(request.entries)


def _missing_key_rule(
    enforcer: Enforcer, wire: WireRequest, caller: Caller, region: str, *, bucket: str, key: str
) -> None:
    """A missing key reads as 404 only to a caller allowed s3:ListBucket, else 403.

    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax
    (Permissions): without s3:ListBucket S3 does not reveal whether the key exists.
    """
    if policies.bucket(bucket) is None or has_object(bucket, key):
        return
    owner = policies.bucket_account(bucket) or caller.account
    context = enforcer.base_context(wire, caller, region, owner)
    context["s3:ResourceAccount"] = owner
    question = policies.question(
        caller,
        "s3:ListBucket",
        resource=s3_rules.s3_arn(bucket, None),
        resource_account=owner,
        context=context,
        resource_policy=policies.bucket_policy(bucket),
    )
    verdict = enforcer.ask(wire, question, note=f"GetObject on missing key {key!r}")
    if not verdict.allowed:
        raise denials.error("s3", Problem.ACCESS_DENIED, wire.request_id, "Access Denied")


def _kms_question(
    enforcer: Enforcer,
    wire: WireRequest,
    caller: Caller,
    region: str,
    bucket: str,
    *,
    key_id: str,
    action: str,
) -> None:
    owner = policies.bucket_account(bucket) or caller.account
    kms_key = policies.kms_key(owner, key_id, region)
    if kms_key is None:
        return  # moto answers KMS.NotFoundException itself
    context = enforcer.base_context(wire, caller, region, kms_key.account)
    context["kms:ViaService"] = f"s3.{region}.amazonaws.com"
    context["kms:CallerAccount"] = caller.account
    context["kms:EncryptionContext:aws:s3:arn"] = f"arn:{PARTITION}:s3:::{bucket}"
    # KMS puts the key's tags in as aws:ResourceTag for the data-key calls S3 makes on the
    # caller's behalf too: role B's boundary allows them only on the deploy's tagged keys.
    context.update(tag_context.resource_tag_context(action, kms_key.arn))
    question = policies.question(
        caller,
        action,
        resource=kms_key.arn,
        resource_account=kms_key.account,
        context=context,
        resource_policy=policies.key_policy(kms_key),
    )
    enforcer.require("s3", wire, caller, question, note="SSE-KMS object in S3")


def _kms_for_write(
    enforcer: Enforcer, wire: WireRequest, caller: Caller, region: str, bucket: str
) -> None:
    headers = wire.header_map()
    algorithm = headers.get("x-amz-server-side-encryption")
    key_id = headers.get("x-amz-server-side-encryption-aws-kms-key-id")
    if algorithm is None:
        found = policies.bucket(bucket)
        encryption = found.encryption if found is not None else {}
        algorithm = find_key(encryption, "SSEAlgorithm")
        key_id = find_key(encryption, "KMSMasterKeyID")
    if algorithm and algorithm.startswith("aws:kms") and key_id:
        _kms_question(
            enforcer, wire, caller, region, bucket, key_id=key_id, action="kms:GenerateDataKey"
        )


def _kms_for_read(
    enforcer: Enforcer, wire: WireRequest, caller: Caller, region: str, *, bucket: str, key: str
) -> None:
    stored = stored_object(bucket, key)
    if stored is None or not str(stored.encryption or "").startswith("aws:kms"):
        return
    if stored.kms_key_id:
        _kms_question(
            enforcer, wire, caller, region, bucket, key_id=stored.kms_key_id, action="kms:Decrypt"
        )


def find_key(node: object, name: str) -> str | None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == name and isinstance(value, str):
                return value
            found = find_key(value, name)
            if found:
                return found
    if isinstance(node, list):
        for item in node:
            found = find_key(item, name)
            if found:
                return found
    return None


def admit_form_upload(enforcer: Enforcer, wire: WireRequest) -> None:
    """A browser POST upload: admitted only with a valid POST-policy signature, as
    s3:PutObject on the key (form_upload.py); anything else is NotImplemented."""
    checked = form_upload.verify(wire, enforcer.decider.clock())
    if isinstance(checked, str):
        raise enforcer.unsupported(wire, "s3", f"S3 POST upload ({checked})")
    caller, form = checked
    found = Classified("s3", "PutObject", "rest-xml", {"Bucket": form.bucket, "Key": form.key})
    wire.admitted = found
    wire.caller_arn = caller.arn
    need = s3_rules.Need("s3:PutObject", form.bucket, form.key)
    decide(enforcer, wire, caller, region=form.region, need=need, operation="PutObject")
