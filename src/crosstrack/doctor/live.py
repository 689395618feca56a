"""State from live AWS (or the local AWS, which answers the same API): read-only calls only.

Every call goes through :func:`crosstrack.doctor.reads.read`, which turns a refusal into the
part's ``unreadable`` reason naming the permission (a row then says ``unknown``), and a missing
resource into a "does not exist" reason (a row then fails). The permissions used here are
exactly those in infra/bootstrap/doctor-read-only-account-{a,b}.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from crosstrack.doctor.checks import ADDR
from crosstrack.doctor.model import (
    BucketState,
    DoctorError,
    FunctionState,
    KeyState,
    NamedPolicy,
    RoleState,
    ScheduleState,
    State,
)
from crosstrack.doctor.names import Names
from crosstrack.doctor.reads import Unreadable, policy_document, read


@dataclass
class Accounts:
    """The boto3 sessions of both accounts (any credential source boto3 accepts)."""

    a: Any
    b: Any
    region: str


def _client(session: Any, service: str, region: str) -> Any:
    return session.client(service, region_name=region)


def account_of(session: Any, region: str) -> str:
    try:
        return str(_client(session, "sts", region).get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as exc:
        raise DoctorError(f"cannot identify the caller (sts:GetCallerIdentity): {exc}") from None


def read_role(session: Any, region: str, arn: str, address: str) -> RoleState:
    iam = _client(session, "iam", region)
    role = RoleState(arn, address)
    name = role.name
    try:
        got = read("iam:GetRole", arn, lambda: iam.get_role(RoleName=name)["Role"])
        role.trust = policy_document(got["AssumeRolePolicyDocument"])
        role.unique_id = got.get("RoleId")
        role.max_session_seconds = got.get("MaxSessionDuration")
        boundary_arn = (got.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    except Unreadable as exc:
        role.unreadable["trust"] = role.unreadable["boundary"] = exc.reason
        role.unreadable["policies"] = exc.reason
        return role
    try:
        names = read(
            "iam:ListRolePolicies",
            arn,
            lambda: iam.list_role_policies(RoleName=name)["PolicyNames"],
        )
        for policy_name in names:
            got_doc: Any = read(
                "iam:GetRolePolicy", arn, partial(_role_policy, iam, name, policy_name)
            )
            role.inline.append(
                NamedPolicy(f"{name}/{policy_name}", policy_document(got_doc), address)
            )
        attached = read(
            "iam:ListAttachedRolePolicies",
            arn,
            lambda: iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"],
        )
        for item in attached:
            role.attached.append(_managed(iam, item["PolicyArn"], address))
    except Unreadable as exc:
        role.unreadable["policies"] = exc.reason
    if boundary_arn:
        try:
            role.boundary = _managed(iam, boundary_arn, address)
        except Unreadable as exc:
            role.unreadable["boundary"] = exc.reason
    return role


def _role_policy(iam: Any, role: str, name: str) -> Any:
    return iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]


def _managed(iam: Any, arn: str, address: str) -> NamedPolicy:
    policy = read("iam:GetPolicy", arn, lambda: iam.get_policy(PolicyArn=arn)["Policy"])
    version = read(
        "iam:GetPolicyVersion",
        arn,
        lambda: iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])[
            "PolicyVersion"
        ],
    )
    return NamedPolicy(arn.rsplit("/", 1)[-1], policy_document(version["Document"]), address)


def read_function(session: Any, region: str, account: str, name: str) -> FunctionState:
    lam = _client(session, "lambda", region)
    fn = FunctionState(name, f"arn:aws:lambda:{region}:{account}:function:{name}")
    try:
        config = read(
            "lambda:GetFunctionConfiguration",
            fn.arn,
            lambda: lam.get_function_configuration(FunctionName=name),
        )
        fn.arn = config.get("FunctionArn", fn.arn)
        fn.role_arn = config.get("Role")
        fn.environment = dict((config.get("Environment") or {}).get("Variables") or {})
    except Unreadable as exc:
        fn.unreadable["configuration"] = exc.reason
    try:
        fn.resource_policy = policy_document(
            read("lambda:GetPolicy", fn.arn, lambda: lam.get_policy(FunctionName=name)["Policy"])
        )
    except Unreadable as exc:
        if not exc.reason.startswith("does not exist"):  # no policy: nothing granted there
            fn.unreadable["resource_policy"] = exc.reason
    return fn


def read_schedule(
    session: Any, region: str, account: str, name: str
) -> tuple[ScheduleState | None, RoleState | None]:
    sch = _client(session, "scheduler", region)
    arn = f"arn:aws:scheduler:{region}:{account}:schedule/default/{name}"
    state = ScheduleState(name, arn)
    try:
        got = read(
            "scheduler:GetSchedule", arn, lambda: sch.get_schedule(Name=name, GroupName="default")
        )
    except Unreadable as exc:
        if exc.reason.startswith("does not exist"):
            return None, None
        state.unreadable["schedule"] = exc.reason
        return state, None
    state.arn = got.get("Arn", arn)
    target = got.get("Target") or {}
    state.target_arn, state.role_arn = target.get("Arn"), target.get("RoleArn")
    state.enabled = got.get("State", "ENABLED") == "ENABLED"
    role = (
        read_role(session, region, state.role_arn, ADDR["schedule_role"])
        if state.role_arn
        else None
    )
    return state, role


def read_bucket(session: Any, region: str, account: str, name: str) -> BucketState:
    s3 = _client(session, "s3", region)
    bucket = BucketState(name, account)
    arn = bucket.arn
    try:
        bucket.policy = policy_document(
            read("s3:GetBucketPolicy", arn, lambda: s3.get_bucket_policy(Bucket=name)["Policy"])
        )
    except Unreadable as exc:
        if "NoSuchBucketPolicy" not in exc.reason:
            bucket.unreadable["policy"] = exc.reason
    try:
        rules = read(
            "s3:GetEncryptionConfiguration",
            arn,
            lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"][
                "Rules"
            ],
        )
        default = (rules[0] if rules else {}).get("ApplyServerSideEncryptionByDefault") or {}
        bucket.sse_algorithm = default.get("SSEAlgorithm", "AES256")
        bucket.kms_key_id = default.get("KMSMasterKeyID")
    except Unreadable as exc:
        if "ServerSideEncryptionConfigurationNotFound" in exc.reason:
            bucket.sse_algorithm = "AES256"  # S3's default since January 2023
        else:
            bucket.unreadable["encryption"] = exc.reason
    return bucket


def read_key(session: Any, region: str, key_id: str) -> KeyState:
    kms = _client(session, "kms", region)
    key = KeyState(key_id)
    try:
        meta = read(
            "kms:DescribeKey", key_id, lambda: kms.describe_key(KeyId=key_id)["KeyMetadata"]
        )
        key.arn = meta["Arn"]
        key.policy = policy_document(
            read(
                "kms:GetKeyPolicy",
                key.arn,
                lambda: kms.get_key_policy(KeyId=key.arn, PolicyName="default")["Policy"],
            )
        )
    except Unreadable as exc:
        key.unreadable["policy"] = exc.reason
    return key


def read_org(session: Any, region: str) -> tuple[bool, str | None]:
    """(known, organization id): not in an organization is known (None)."""
    org = _client(session, "organizations", region)
    try:
        return True, str(org.describe_organization()["Organization"]["Id"])
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        return (True, None) if code == "AWSOrganizationsNotInUseException" else (False, None)
    except BotoCoreError:
        return False, None


def collect(accounts: Accounts, names: Names, *, source: str = "live") -> State:
    """Read both accounts into a :class:`State` (read-only calls only)."""
    region = names.region
    account_a, account_b = account_of(accounts.a, region), account_of(accounts.b, region)
    fn = read_function(accounts.a, region, account_a, names.function)
    env = fn.environment
    role_a_arn = (
        names.role_a_arn(account_a)
        if names.role_a
        else (fn.role_arn or names.role_a_arn(account_a))
    )
    role_b_arn = (
        names.role_b_arn(account_b)
        if names.role_b
        else (env.get("ACCOUNT2_ROLE_ARN") or names.role_b_arn(account_b))
    )
    bucket_name = names.bucket or env.get("BUCKET_NAME")
    if not bucket_name:
        raise DoctorError(
            "cannot tell which bucket to check: the function's BUCKET_NAME could not be read "
            "and no --bucket was given"
        )
    schedule, schedule_role = read_schedule(accounts.a, region, account_a, names.schedule)
    bucket = read_bucket(accounts.b, region, account_b, bucket_name)
    key_id = names.key or bucket.kms_key_id
    key = read_key(accounts.b, region, key_id) if key_id else None
    state = State(
        source=source,
        region=region,
        account_a=account_a,
        account_b=account_b,
        function=fn,
        role_a=read_role(accounts.a, region, role_a_arn, ADDR["role_a"]),
        role_b=read_role(accounts.b, region, role_b_arn, ADDR["role_b"]),
        bucket=bucket,
        schedule=schedule,
        schedule_role=schedule_role,
        key=key,
        deploy_role=read_role(
            accounts.b,
            region,
            f"arn:aws:iam::{account_b}:role/{names.deploy_role}",
            "infra/bootstrap (the deploy role)",
        )
        if names.deploy_role
        else None,
        object_key=env.get("OBJECT_KEY", "iss_position.txt"),
        log_layout=env.get("LOG_LAYOUT", "single"),
    )
    for account, session in ((account_a, accounts.a), (account_b, accounts.b)):
        known, org = read_org(session, region)
        if known:
            state.org_ids[account] = org
    return state
