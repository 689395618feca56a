"""Links 4 and 5: role B's permissions on the log object, the bucket policy's denies and,
with SSE-KMS, the key policy (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html:
a PutObject needs kms:GenerateDataKey and a GetObject kms:Decrypt on the bucket's key)."""

from __future__ import annotations

from crosstrack.doctor import requests as rq
from crosstrack.doctor.checks import ADDR
from crosstrack.doctor.evaluation import IDENTITY_SIDE, RESOURCE_SIDE, Asked
from crosstrack.doctor.model import NamedPolicy, Row, State, Verdict
from crosstrack.doctor.rows import combine, identity_needs, org_unknown, side_row, unknown_row


def _bucket_policy(state: State) -> NamedPolicy | None:
    policy = state.bucket.policy
    if policy is None:
        return None
    return NamedPolicy(f"bucket policy of {state.bucket.name}", policy, ADDR["bucket_policy"])


def _object_request(state: State, action: str, **context: str) -> Asked:
    b = state.role_b
    return Asked(
        rq.role_b_session(state),
        action,
        rq.object_arn(state),
        {**rq.s3_context(state), **context},
        principal_arn=b.arn,
        resource_account=state.account_b,
        identity=b.identity_policies,
        boundary=b.boundary,
        resource_policy=_bucket_policy(state),
    )


def object_rows(state: State) -> list[Row]:
    b = state.role_b
    needs = (*identity_needs(b), (state.bucket.unreadable, "policy"))
    rows: list[Row] = []
    for id_, action in (("4.put", "s3:PutObject"), ("4.get", "s3:GetObject")):
        rows.append(
            side_row(
                id_, 4, _object_request(state, action), IDENTITY_SIDE, f"the policies of {b.name}",
                f"{ADDR['role_b_policy']} (statement ReadAndAppendTheLogOnly: s3:GetObject and "
                f"s3:PutObject on {rq.object_arn(state)})", needs=needs,
            )
        )  # fmt: skip
    bucket_rows = [
        side_row(
            "5.bucket", 5, _object_request(state, action), RESOURCE_SIDE,
            f"the bucket policy of {state.bucket.name}",
            f"{ADDR['bucket_policy']} (a Deny statement catches the reporter's request: narrow "
            "it, or exempt role B)", needs=((state.bucket.unreadable, "policy"),),
        )
        for action in ("s3:PutObject", "s3:GetObject")
    ]  # fmt: skip
    bucket = combine("5.bucket", bucket_rows)
    org = org_unknown(state, state.account_b, state.bucket.policy)
    if org is not None and bucket.verdict is Verdict.FAIL:
        bucket = unknown_row("5.bucket", 5, bucket.principal, bucket.action, bucket.resource, org)
    rows.append(bucket)
    rows.append(_tls_row(state))
    rows.append(_kms_row(state))
    return rows


def _tls_row(state: State) -> Row:
    """A warning when the bucket would accept the same request over plain HTTP."""
    if "policy" in state.bucket.unreadable:
        return unknown_row("5.tls", 5, "*", "s3:PutObject", state.bucket.arn,
                        state.bucket.unreadable["policy"])  # fmt: skip
    asked = _object_request(state, "s3:PutObject", **{"aws:SecureTransport": "false"})
    row = side_row(
        "5.tls", 5, asked, RESOURCE_SIDE, f"the bucket policy of {state.bucket.name}", ""
    )
    if row.verdict is Verdict.FAIL:  # denied over plain HTTP: what we want
        return Row(
            "5.tls", 5, Verdict.PASS, row.principal, row.action, row.resource, row.statement,
            f"requests without TLS are denied ({row.evidence})", "",
        )  # fmt: skip
    return Row(
        "5.tls", 5, Verdict.WARN, row.principal, row.action, row.resource, None,
        "the bucket policy does not deny requests made without TLS (aws:SecureTransport false)",
        f"{ADDR['bucket_policy']} (statement DenyInsecureTransport)",
    )  # fmt: skip


def _kms_row(state: State) -> Row:
    bucket, b = state.bucket, state.role_b
    principal = rq.role_b_session(state)
    if "encryption" in bucket.unreadable:
        return unknown_row("5.kms", 5, principal, "kms:GenerateDataKey", bucket.arn,
                        bucket.unreadable["encryption"])  # fmt: skip
    if not (bucket.sse_algorithm or "").startswith("aws:kms"):
        return Row(
            "5.kms", 5, Verdict.PASS, principal, "kms:GenerateDataKey", bucket.arn, None,
            f"the bucket encrypts with {bucket.sse_algorithm or 'SSE-S3 (AES256)'}: no key "
            "policy is involved", "",
        )  # fmt: skip
    key = state.key
    if key is None or not bucket.kms_key_id:
        return Row(
            "5.kms", 5, Verdict.PASS, principal, "kms:GenerateDataKey", bucket.arn, None,
            "the bucket uses the AWS managed key aws/s3, which allows every principal of "
            f"account {state.account_b} through S3", "",
        )  # fmt: skip
    needs = (*identity_needs(b), (key.unreadable, "policy"))
    rows = [
        side_row(
            "5.kms", 5,
            Asked(principal, action, key.arn, rq.kms_context(state), principal_arn=b.arn,
                  identity=b.identity_policies, boundary=b.boundary,
                  resource_policy=None if key.policy is None
                  else NamedPolicy(f"key policy of {key.arn}", key.policy, ADDR["key"])),
            IDENTITY_SIDE | RESOURCE_SIDE, f"the key policy of {key.arn} and {b.name}'s policies",
            f"{ADDR['key']} (key policy statement RoleBUsesTheKeyThroughS3Only: "
            f"kms:GenerateDataKey and kms:Decrypt for {b.arn})", needs=needs,
        )
        for action in ("kms:GenerateDataKey", "kms:Decrypt")
    ]  # fmt: skip
    return combine("5.kms", rows)
