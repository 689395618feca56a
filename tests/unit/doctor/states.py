"""A deployment's state as infra/ creates it (the documents its policy data sources render)."""

from __future__ import annotations

from typing import Any

from crosstrack.doctor.model import (
    BucketState,
    FunctionState,
    KeyState,
    NamedPolicy,
    RoleState,
    ScheduleState,
    State,
)

A, B, REGION = "111111111111", "222222222222", "us-east-1"
FN = "write-report-to-crossaccount-s3"
FN_ARN = f"arn:aws:lambda:{REGION}:{A}:function:{FN}"
ROLE_A = f"arn:aws:iam::{A}:role/connect-to-bridge"
ROLE_B = f"arn:aws:iam::{B}:role/access-s3-bucket"
SCHED_ROLE = f"arn:aws:iam::{A}:role/{FN}-scheduler"
SCHED_ARN = f"arn:aws:scheduler:{REGION}:{A}:schedule/default/{FN}"
BUCKET = "iss-reporting-20250101"
KEY_ARN = f"arn:aws:kms:{REGION}:{B}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def state(kms: bool = False) -> State:
    role_a = RoleState(
        ROLE_A,
        "module.source.aws_iam_role.execution",
        trust=doc(
            {
                "Sid": "LambdaServiceForThisAccountOnly",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": A}},
            }
        ),
        inline=[
            NamedPolicy(
                "connect-to-bridge/assume-target-role-and-log",
                doc(
                    {
                        "Sid": "AssumeOnlyRoleB",
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Resource": ROLE_B,
                        "Condition": {"ArnEquals": {"lambda:SourceFunctionArn": FN_ARN}},
                    },
                    {
                        "Sid": "WriteOwnLogs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"arn:aws:logs:{REGION}:{A}:log-group:/aws/lambda/{FN}:*",
                    },
                ),
                "module.source.aws_iam_role_policy.execution",
            )
        ],
    )
    role_b = RoleState(
        ROLE_B,
        "module.target.aws_iam_role.this",
        trust=doc(
            {
                "Sid": "TrustOnlyTheReporterRole",
                "Effect": "Allow",
                "Principal": {"AWS": ROLE_A},
                "Action": "sts:AssumeRole",
            }
        ),
        inline=[
            NamedPolicy(
                "access-s3-bucket/append-iss-log",
                doc(
                    {
                        "Sid": "ReadAndAppendTheLogOnly",
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:PutObject"],
                        "Resource": f"arn:aws:s3:::{BUCKET}/iss_position.txt",
                    },
                    {
                        "Sid": "TellAMissingLogFromADenial",
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": f"arn:aws:s3:::{BUCKET}",
                    },
                ),
                "module.target.aws_iam_role_policy.access",
            )
        ],
        max_session_seconds=3600,
    )
    sched_role = RoleState(
        SCHED_ROLE,
        "module.source.aws_iam_role.scheduler",
        trust=doc(
            {
                "Sid": "SchedulerForThisScheduleOnly",
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": A},
                    "ArnEquals": {"aws:SourceArn": SCHED_ARN},
                },
            }
        ),
        inline=[
            NamedPolicy(
                f"{FN}-scheduler/invoke-reporter",
                doc(
                    {
                        "Sid": "InvokeTheReporterOnly",
                        "Effect": "Allow",
                        "Action": "lambda:InvokeFunction",
                        "Resource": FN_ARN,
                    }
                ),
            )
        ],
    )
    bucket_arn = f"arn:aws:s3:::{BUCKET}"
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
    }
    bucket = BucketState(
        BUCKET,
        B,
        policy=doc(
            {
                **deny,
                "Sid": "DenyInsecureTransport",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                **deny,
                "Sid": "DenyOutdatedTls",
                "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
            },
        ),
        sse_algorithm="aws:kms" if kms else "AES256",
        kms_key_id=KEY_ARN if kms else None,
    )
    key = (
        KeyState(
            KEY_ARN,
            policy=doc(
                {
                    "Sid": "AccountAdministersTheKey",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "RoleBUsesTheKeyThroughS3Only",
                    "Effect": "Allow",
                    "Principal": {"AWS": ROLE_B},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
                },
            ),
        )
        if kms
        else None
    )
    return State(
        source="test",
        region=REGION,
        account_a=A,
        account_b=B,
        function=FunctionState(
            FN,
            FN_ARN,
            role_arn=ROLE_A,
            environment={
                "ACCOUNT2_ROLE_ARN": ROLE_B,
                "BUCKET_NAME": BUCKET,
                "BUCKET_REGION": REGION,
                "OBJECT_KEY": "iss_position.txt",
                "LOG_LAYOUT": "single",
                "ROLE_SESSION_PREFIX": "crosstrack",
            },
        ),
        role_a=role_a,
        role_b=role_b,
        bucket=bucket,
        schedule=ScheduleState(FN, SCHED_ARN, role_arn=SCHED_ROLE, target_arn=FN_ARN),
        schedule_role=sched_role,
        key=key,
    )
