"""The resource ARNs a non-S3, non-KMS operation acts on (KMS: kms_resources.py), from its
input members.

The resource types and ARN formats are the Service Authorization Reference's
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html);
``*`` where an action has no resource type (``iam:ListRoles``, ``sqs:ListQueues``). Input
members come from operations.py by their botocore model names, whatever the protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from crosstrack.local.accounts import PARTITION

Param = Callable[[str], object]


def getter(params: Mapping[str, Any]) -> Param:
    def get(name: str) -> object:
        value = params.get(name)
        return None if value in (None, "") else value

    return get


def _iam_resource(get: Param, account: str) -> str:
    base = f"arn:{PARTITION}:iam::{account}:"
    path = str(get("Path") or "/")
    for param, kind in (
        ("RoleName", "role"),
        ("UserName", "user"),
        ("GroupName", "group"),
        ("InstanceProfileName", "instance-profile"),
    ):
        name = get(param)
        if name:
            return f"{base}{kind}{path}{name}"
    arn = get("PolicyArn")
    if arn:
        return str(arn)
    name = get("PolicyName")
    return f"{base}policy{path}{name}" if name else "*"


def _function_arn(get: Param, region: str, account: str) -> str:
    name = get("FunctionName") or get("Resource")
    if not name:
        return "*"
    name = unquote(str(name))
    if name.startswith("arn:"):
        return name
    # FunctionName may be "name:qualifier"; the function is the resource.
    return f"arn:{PARTITION}:lambda:{region}:{account}:function:{name}"


def _queue_arn(get: Param, region: str, account: str) -> str:
    url = get("QueueUrl")
    if url:
        parts = str(url).rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2].isdigit():
            return f"arn:{PARTITION}:sqs:{region}:{parts[-2]}:{parts[-1]}"
    name = get("QueueName")
    return f"arn:{PARTITION}:sqs:{region}:{account}:{name}" if name else "*"


def _topic_arn(operation: str, get: Param, region: str, account: str) -> str:
    arn = get("TopicArn") or get("ResourceArn")
    if arn:
        return str(arn)
    subscription = get("SubscriptionArn")
    if subscription and str(subscription).count(":") >= 6:
        return str(subscription).rsplit(":", 1)[0]
    name = get("Name")
    if operation == "CreateTopic" and name:
        return f"arn:{PARTITION}:sns:{region}:{account}:{name}"
    return "*"


def _alarm_arns(get: Param, region: str, account: str) -> list[str]:
    names: list[str] = []
    listed = get("AlarmNames")
    if isinstance(listed, list):
        names = [str(n) for n in listed]
    elif get("AlarmNames.member.1"):
        index = 1
        while get(f"AlarmNames.member.{index}"):
            names.append(str(get(f"AlarmNames.member.{index}")))
            index += 1
    elif get("AlarmName"):
        names = [str(get("AlarmName"))]
    arn = get("ResourceARN")
    if not names:
        return [str(arn)] if arn else ["*"]
    return [f"arn:{PARTITION}:cloudwatch:{region}:{account}:alarm:{name}" for name in names]


def service_resources(  # noqa: PLR0911, PLR0912 - one answer per service
    service: str,
    operation: str,
    get: Param,
    *,
    region: str,
    account: str,
    role_arn: Callable[[str], str | None],
) -> list[str]:
    """The resource ARNs (``["*"]`` where IAM uses none) a request acts on."""
    if service == "sts":
        return [str(get("RoleArn") or "*")] if operation.startswith("AssumeRole") else ["*"]
    if service == "iam":
        resource = _iam_resource(get, account)
        if get("RoleName") and not operation.startswith("Create"):
            # An existing role's ARN carries its real path, whatever Path says.
            return [role_arn(str(get("RoleName"))) or resource]
        return [resource]
    if service == "lambda":
        return [_function_arn(get, region, account)]
    if service == "logs":
        group = get("logGroupName")
        if group:
            return [f"arn:{PARTITION}:logs:{region}:{account}:log-group:{group}:*"]
        return [str(get("resourceArn") or "*")]
    if service == "scheduler":
        name = get("Name")
        if not name:
            return [str(get("ResourceArn") or "*")]
        if "ScheduleGroup" in operation:
            return [f"arn:{PARTITION}:scheduler:{region}:{account}:schedule-group/{name}"]
        group = get("GroupName") or "default"
        return [f"arn:{PARTITION}:scheduler:{region}:{account}:schedule/{group}/{name}"]
    if service == "events":
        rule = get("Rule") or (get("Name") if "Rule" in operation else None)
        return [f"arn:{PARTITION}:events:{region}:{account}:rule/{rule}" if rule else "*"]
    if service == "sqs":
        return [_queue_arn(get, region, account)]
    if service == "sns":
        return [_topic_arn(operation, get, region, account)]
    if service == "cloudwatch":
        return _alarm_arns(get, region, account)
    return ["*"]


# Operations that hand a role to a service, and where the role ARN is in the request.
PASS_ROLE: dict[str, tuple[str, str]] = {
    "lambda:CreateFunction": ("Role", "lambda.amazonaws.com"),
    "lambda:UpdateFunctionConfiguration": ("Role", "lambda.amazonaws.com"),
    "scheduler:CreateSchedule": ("Target.RoleArn", "scheduler.amazonaws.com"),
    "scheduler:UpdateSchedule": ("Target.RoleArn", "scheduler.amazonaws.com"),
    "events:PutTargets": ("Targets[].RoleArn", "events.amazonaws.com"),
}


def passed_roles(spec: str, body: object) -> list[str]:
    """Role ARNs found at ``spec`` (``A.B`` or ``A[].B``) in a parsed JSON body."""
    found: list[str] = []

    def walk(node: object, parts: list[str]) -> None:
        if not parts:
            if isinstance(node, str) and node:
                found.append(node)
            return
        head, rest = parts[0], parts[1:]
        if head.endswith("[]"):
            items = node.get(head[:-2]) if isinstance(node, dict) else None
            for item in items if isinstance(items, list) else []:
                walk(item, rest)
        elif isinstance(node, dict):
            walk(node.get(head), rest)

    walk(body, spec.split("."))
    return found
