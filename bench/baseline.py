"""The ORIGINAL reporter's algorithm, for the benchmarks' ratios (never used by crosstrack).

Rewritten from the behaviour the blog post describes (original/cross-account-iam-post.txt),
minus the ISS API call, which the benchmarks do not measure:

1. assume role B on every invocation, with a constant session name;
2. build an S3 client from the temporary keys;
3. GetObject the whole log (a missing object is a crash: the header came from Terraform);
4. append a record (naive time, unrounded coordinates);
5. PutObject the whole log back: no ContentType, no condition, so overlapping
   invocations silently overwrite each other's records.

Sizes are returned so the benchmarks can count the bytes each invocation moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import boto3

from crosstrack.reporter.positions import Position

ORIGINAL_SESSION_NAME = "LambdaCrossAccountS3Access"


@dataclass(frozen=True)
class BaselineResult:
    bytes_read: int
    bytes_written: int


def original_invocation(
    source: boto3.Session,
    role_arn: str,
    bucket: str,
    key: str,
    region: str,
    position: Position,
) -> BaselineResult:
    """One invocation of the original function.

    ``source`` stands for the original's module-level ``boto3.client(...)`` calls, i.e. the
    default session of a Lambda container (one per thread when threads play containers).
    """
    credentials = source.client("sts").assume_role(
        RoleArn=role_arn, RoleSessionName=ORIGINAL_SESSION_NAME
    )["Credentials"]
    s3 = source.client(
        "s3",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
    content = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    # The original printed datetime.fromtimestamp(...) (naive; UTC in Lambda) and the
    # API's coordinate strings; a Position's floats stand in for them.
    timestamp = position.time.replace(tzinfo=None)
    new_content = (
        content
        + f"Time: {timestamp}\nLatitude: {position.latitude}\nLongitude: {position.longitude}\n\n"
    )
    s3.put_object(Bucket=bucket, Key=key, Body=new_content)
    return BaselineResult(
        bytes_read=len(content.encode("utf-8")), bytes_written=len(new_content.encode("utf-8"))
    )
