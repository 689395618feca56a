"""Where ``crosstrack doctor chain`` reads policies: one read-only AWS call per file.

Each :class:`Call` is one aws-cli command; its answer is the JSON that command prints (which
is also what boto3 returns, minus ``ResponseMetadata``). Two sources answer calls:

* :class:`PolicyDir` -- ``--policies DIR``: the file ``<command>.<names>.json`` (the table in
  docs/doctor.md), looked up first in ``DIR/<account id>/`` then in ``DIR/`` (so two
  accounts' roles of the same name can both be given). ``{}`` in a file means "no policy" (what
  you save when the CLI answers NoSuchBucketPolicy / ResourceNotFoundException).
* :class:`LiveSource` -- ``--profile ACCOUNT=PROFILE``: the same call through boto3, read-only.

A call that cannot be answered raises :class:`crosstrack.doctor.reads.Unreadable` with a reason
naming the file (and the command that writes it) or the permission denied; a row then says
``unknown``. A file that is not a JSON object raises DoctorInputError (exit 2), naming it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from crosstrack.doctor.model import DoctorInputError
from crosstrack.doctor.reads import Unreadable, read
from crosstrack.doctor.rows import MISSING_FILE, NO_PROFILE

# command -> (aws-cli service, the arguments naming what it reads, in the file name's order)
COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "get-role": ("iam", ("--role-name",)),
    "list-role-policies": ("iam", ("--role-name",)),
    "get-role-policy": ("iam", ("--role-name", "--policy-name")),
    "list-attached-role-policies": ("iam", ("--role-name",)),
    "get-user": ("iam", ("--user-name",)),
    "list-user-policies": ("iam", ("--user-name",)),
    "get-user-policy": ("iam", ("--user-name", "--policy-name")),
    "list-attached-user-policies": ("iam", ("--user-name",)),
    "get-policy": ("iam", ("--policy-arn",)),
    "get-policy-version": ("iam", ("--policy-arn", "--version-id")),
    "get-bucket-policy": ("s3api", ("--bucket",)),
    "get-key-policy": ("kms", ("--key-id",)),
    "get-queue-attributes": ("sqs", ("--queue-url",)),
    "get-topic-attributes": ("sns", ("--topic-arn",)),
    "describe-event-bus": ("events", ("--name",)),
    "lambda.get-policy": ("lambda", ("--function-name",)),
    "dynamodb.get-resource-policy": ("dynamodb", ("--resource-arn",)),
    "secretsmanager.get-resource-policy": ("secretsmanager", ("--secret-id",)),
}
_EXTRA = {
    "get-key-policy": " --policy-name default --output json",
    "get-queue-attributes": " --attribute-names Policy",
}


@dataclass(frozen=True)
class Call:
    """One read. ``names`` make the file name; ``args`` are the API's own values (an ARN where
    the file name has a name), in COMMANDS' argument order."""

    account: str | None  # whose credentials read it (None: an AWS managed policy)
    command: str
    names: tuple[str, ...]
    args: tuple[str, ...]
    region: str | None = field(default=None, compare=False)

    @property
    def filename(self) -> str:
        return ".".join((self.command, *self.names, "json"))

    @property
    def cli(self) -> str:
        service, flags = COMMANDS[self.command]
        command = self.command.rsplit(".", 1)[-1]
        pairs = " ".join(f"{flag} {value}" for flag, value in zip(flags, self.args, strict=True))
        return f"aws {service} {command} {pairs}{_EXTRA.get(self.command, '')}"


@dataclass(frozen=True)
class Answer:
    data: Mapping[str, Any]
    origin: str  # the file read, or the call made: errors name it


class Source(Protocol):
    def fetch(self, call: Call) -> Answer: ...


class PolicyDir:
    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            raise DoctorInputError(f"--policies {directory}: not a directory")
        self.directory = directory

    def fetch(self, call: Call) -> Answer:
        candidates = [self.directory / call.filename]
        if call.account:
            candidates.insert(0, self.directory / call.account / call.filename)
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise Unreadable(
                f"{MISSING_FILE}{call.filename} in {self.directory} (run: {call.cli} > "
                f"{call.filename})"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise DoctorInputError(f"{path}: not readable JSON ({exc})") from None
        if not isinstance(data, dict):
            raise DoctorInputError(f"{path}: expected the JSON object `{call.cli}` prints")
        return Answer(data, str(path))


# Error codes that mean "there is no policy", not "could not read it".
_NO_POLICY = {"NoSuchBucketPolicy", "PolicyNotFoundException"}


class LiveSource:
    """The same calls through boto3 sessions, one per account (read-only calls only)."""

    def __init__(self, sessions: Mapping[str, Any], region: str) -> None:
        self.sessions = sessions
        self.region = region

    def fetch(self, call: Call) -> Answer:
        account = call.account
        if account is None:  # an AWS managed policy: any account can read it
            account = next(iter(self.sessions), None)
        session = self.sessions.get(account) if account else None
        if session is None:
            raise Unreadable(f"{NO_PROFILE}{call.account} (needed for: {call.cli})")
        service, _ = COMMANDS[call.command]
        client = session.client(
            {"s3api": "s3"}.get(service, service), region_name=call.region or self.region
        )
        data = read(
            _permission(call),
            call.args[0],
            lambda: _no_policy(lambda: _OPS[call.command](client, call)),
        )
        return Answer({k: v for k, v in data.items() if k != "ResponseMetadata"}, call.cli)


def _permission(call: Call) -> str:
    service, _ = COMMANDS[call.command]
    prefix = {"s3api": "s3"}.get(service, service)
    words = call.command.rsplit(".", 1)[-1].split("-")
    return f"{prefix}:{''.join(w.capitalize() for w in words)}"


def _no_policy(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", ""))
        # Lambda says ResourceNotFoundException both for a missing function and a missing
        # policy; only the latter's message speaks of the policy.
        if code in _NO_POLICY or (code == "ResourceNotFoundException" and "olicy" in message):
            return {}
        raise


def _paginated(client: Any, operation: str, key: str, **kwargs: str) -> dict[str, Any]:
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items += page.get(key, [])
    return {key: items}


def _queue(client: Any, call: Call) -> dict[str, Any]:
    name, owner = call.names[0], call.account or ""
    url = client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=owner)["QueueUrl"]
    return dict(client.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]))


_OPS: dict[str, Callable[[Any, Call], dict[str, Any]]] = {
    "get-role": lambda c, k: c.get_role(RoleName=k.args[0]),
    "list-role-policies": lambda c, k: _paginated(
        c, "list_role_policies", "PolicyNames", RoleName=k.args[0]
    ),
    "get-role-policy": lambda c, k: c.get_role_policy(RoleName=k.args[0], PolicyName=k.args[1]),
    "list-attached-role-policies": lambda c, k: _paginated(
        c, "list_attached_role_policies", "AttachedPolicies", RoleName=k.args[0]
    ),
    "get-user": lambda c, k: c.get_user(UserName=k.args[0]),
    "list-user-policies": lambda c, k: _paginated(
        c, "list_user_policies", "PolicyNames", UserName=k.args[0]
    ),
    "get-user-policy": lambda c, k: c.get_user_policy(UserName=k.args[0], PolicyName=k.args[1]),
    "list-attached-user-policies": lambda c, k: _paginated(
        c, "list_attached_user_policies", "AttachedPolicies", UserName=k.args[0]
    ),
    "get-policy": lambda c, k: c.get_policy(PolicyArn=k.args[0]),
    "get-policy-version": lambda c, k: c.get_policy_version(
        PolicyArn=k.args[0], VersionId=k.args[1]
    ),
    "get-bucket-policy": lambda c, k: c.get_bucket_policy(Bucket=k.args[0]),
    "get-key-policy": lambda c, k: c.get_key_policy(KeyId=k.args[0], PolicyName="default"),
    "get-queue-attributes": _queue,
    "get-topic-attributes": lambda c, k: c.get_topic_attributes(TopicArn=k.args[0]),
    "describe-event-bus": lambda c, k: c.describe_event_bus(Name=k.args[0]),
    "lambda.get-policy": lambda c, k: c.get_policy(FunctionName=k.args[0]),
    "dynamodb.get-resource-policy": lambda c, k: c.get_resource_policy(ResourceArn=k.args[0]),
    "secretsmanager.get-resource-policy": lambda c, k: c.get_resource_policy(SecretId=k.args[0]),
}
