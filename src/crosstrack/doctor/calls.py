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
Commands = dict[str, tuple[str, tuple[str, ...]]]


def _principal_reads(kind: str) -> Commands:
    """The four calls that read a role's or a user's trust and own policies (chain_state)."""
    name = f"--{kind}-name"
    return {
        f"get-{kind}": ("iam", (name,)),
        f"list-{kind}-policies": ("iam", (name,)),
        f"get-{kind}-policy": ("iam", (name, "--policy-name")),
        f"list-attached-{kind}-policies": ("iam", (name,)),
    }


COMMANDS: Commands = {
    **_principal_reads("role"),
    **_principal_reads("user"),
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
            lambda: _no_policy(lambda: _api_call(client, call)),
        )
        return Answer({k: v for k, v in data.items() if k != "ResponseMetadata"}, call.cli)


def _permission(call: Call) -> str:
    service, _ = COMMANDS[call.command]
    prefix = {"s3api": "s3"}.get(service, service)
    return f"{prefix}:{_pascal(call.command.rsplit('.', 1)[-1])}"


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


# Parameters the API needs that the file name does not carry (the cli line's _EXTRA).
_FIXED = {"get-key-policy": {"PolicyName": "default"}}


def _api_call(client: Any, call: Call) -> dict[str, Any]:
    """The boto3 call of an aws-cli command: the same words, its flags as parameters
    (``get-role-policy --role-name R --policy-name P``: ``get_role_policy(RoleName=R,
    PolicyName=P)``)."""
    if call.command == "get-queue-attributes":
        return _queue(client, call)
    _, flags = COMMANDS[call.command]
    operation = call.command.rsplit(".", 1)[-1].replace("-", "_")
    params = {
        _pascal(flag.removeprefix("--")): value
        for flag, value in zip(flags, call.args, strict=True)
    }
    if operation.startswith("list_"):  # they page; the answer is the one list they hold
        key = "AttachedPolicies" if "_attached_" in operation else "PolicyNames"
        return _paginated(client, operation, key, **params)
    return dict(getattr(client, operation)(**params, **_FIXED.get(call.command, {})))


def _pascal(words: str) -> str:
    """``role-name`` -> ``RoleName`` (boto3's parameters, IAM's action names)."""
    return "".join(word.capitalize() for word in words.split("-"))
