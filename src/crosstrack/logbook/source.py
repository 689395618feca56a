"""Where the log is and how to read it: a local file or stdin, or the bucket in account B.

The bucket, key and layout come from flags, else the reporter's own environment variables
(``BUCKET_NAME``, ``OBJECT_KEY``, ``LOG_LAYOUT``, ``BUCKET_REGION``: the names of
:mod:`crosstrack.reporter.settings`), else ``terraform output -json`` of ``infra/``
(``bucket_name``, ``object_key``, ``log_layout``; for older deployments the key and layout from
``read_log_command``). Credentials: the standard chain, a ``--profile`` (the original's
``account-b``), or ``--role-arn`` to assume role B from your own credentials (through the
reporter's :class:`CrossAccountSessions`).

Daily objects are found by listing ``<stem>/`` (role B may ``s3:ListBucket`` the log bucket,
infra/modules/target-account); without that permission, each day of the window is read by
its key. A conditional GET (``If-None-Match``) makes an unchanged object cost a 304 and no
body, which is what ``--follow`` polls with.
https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

from crosstrack.logbook.errors import (
    LogAccessError,
    LogbookError,
    LogbookInputError,
    LogNotFoundError,
)
from crosstrack.reporter import settings
from crosstrack.reporter.ledger import Ledger
from crosstrack.reporter.settings import LogLayout

# Without --since, the daily layout reads this many days back (today included).
DEFAULT_DAILY_DAYS: Final = 7
_READ_LOG_SINGLE: Final = re.compile(r"aws s3 cp s3://([^/\s]+)/(\S+) - ")
_READ_LOG_DAILY: Final = re.compile(r"aws s3 ls s3://([^/\s]+)/(\S+)/ ")


@dataclass(frozen=True)
class LogLocation:
    """The log in S3: ``key`` is the object (single) or the key the days derive from (daily)."""

    bucket: str
    key: str
    layout: LogLayout
    region: str | None = None

    def key_for(self, day: date) -> str:
        """The object holding ``day``: the reporter's own rule (Ledger.key_for)."""
        moment = datetime.combine(day, time(12), tzinfo=UTC)
        return Ledger(None, self.bucket, self.key, layout=self.layout).key_for(moment)

    def describe(self) -> str:
        if self.layout == "single":
            return f"s3://{self.bucket}/{self.key}"
        stem, suffix = posixpath.splitext(self.key)
        return f"s3://{self.bucket}/{stem}/YYYY/MM/DD{suffix}"


def terraform_outputs(infra: Path) -> dict[str, Any]:
    """``terraform output -json`` of ``infra`` as ``{name: value}``; {} when there is none."""
    terraform = os.environ.get("CROSSTRACK_TERRAFORM") or shutil.which("terraform")
    if terraform is None or not infra.is_dir():
        return {}
    try:
        proc = subprocess.run(
            [terraform, f"-chdir={infra}", "output", "-json", "-no-color"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if proc.returncode != 0:
        return {}
    try:
        raw = json.loads(proc.stdout or "{}")
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {k: v.get("value") for k, v in raw.items() if isinstance(v, dict)}


def location_from_outputs(outputs: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(bucket, key, layout) from Terraform's outputs (infra/outputs.tf).

    ``object_key`` and ``log_layout`` say it exactly; a deployment made before they existed
    has only ``read_log_command``, read as a fallback (its daily form names the stem only).
    """
    bucket = outputs.get("bucket_name")
    key, layout = outputs.get("object_key"), outputs.get("log_layout")
    if isinstance(key, str) and key and layout in ("single", "daily"):
        return (str(bucket) if bucket else None), key, str(layout)
    command = str(outputs.get("read_log_command") or "")
    single = _READ_LOG_SINGLE.search(command)
    if single:
        return str(bucket or single[1]), single[2], "single"
    daily = _READ_LOG_DAILY.search(command)
    if daily:
        # The output names the stem only; the reporter's default suffix is .txt.
        suffix = posixpath.splitext(settings.DEFAULTS[settings.OBJECT_KEY])[1]
        return str(bucket or daily[1]), daily[2] + suffix, "daily"
    return (str(bucket) if bucket else None), None, None


def resolve_location(
    *,
    bucket: str | None,
    key: str | None,
    layout: str | None,
    region: str | None,
    env: Mapping[str, str],
    infra: Path | None,
) -> LogLocation:
    """Flags, else the environment, else ``terraform output`` of ``infra``."""

    def from_env(name: str) -> str | None:
        return env.get(name, "").strip() or None

    bucket = bucket or from_env(settings.BUCKET_NAME)
    key = key or from_env(settings.OBJECT_KEY)
    layout = layout or from_env(settings.LOG_LAYOUT)
    region = region or from_env(settings.BUCKET_REGION)
    if bucket is None and infra is not None:
        tf_bucket, tf_key, tf_layout = location_from_outputs(terraform_outputs(infra))
        bucket, key, layout = tf_bucket, key or tf_key, layout or tf_layout
    if bucket is None:
        raise LogbookInputError(
            "no log to read: give a FILE (or - for stdin), or the bucket with --bucket, "
            f"{settings.BUCKET_NAME}, or a deployed infra/ (terraform output bucket_name)"
        )
    layout = (layout or settings.DEFAULTS[settings.LOG_LAYOUT]).lower()
    if layout not in ("single", "daily"):
        raise LogbookInputError(f"layout {layout!r} is not 'single' or 'daily'")
    key = key or settings.DEFAULTS[settings.OBJECT_KEY]
    if key.startswith("/") or key.endswith("/"):
        raise LogbookInputError(f"key {key!r} must not start or end with '/'")
    return LogLocation(bucket, key, layout, region)  # type: ignore[arg-type]


def read_local(path: str) -> tuple[str, str]:
    """(name, text) of a file, or of stdin for ``-``."""
    if path == "-":
        data = sys.stdin.buffer.read()
        name = "<stdin>"
    else:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise LogbookInputError(f"cannot read {path}: {exc.strerror}") from None
        name = path
    return name, decode(name, data, LogbookInputError)


def decode(name: str, data: bytes, error: type[LogbookError] = LogbookError) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"{name} is not a log: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start})"
        ) from None


def s3_client(
    *, profile: str | None, role_arn: str | None, external_id: str | None, region: str | None
) -> Any:
    """An S3 client acting as the profile, or as ``role_arn`` assumed from it."""
    import boto3
    import botocore.session
    from botocore.exceptions import ProfileNotFound

    try:
        source = botocore.session.Session(profile=profile)
        source.get_scoped_config()  # raises ProfileNotFound now, not at the first request
    except ProfileNotFound as exc:
        raise LogbookInputError(f"--profile {profile}: {exc}") from None
    if region is None:
        region = source.get_config_variable("region") or "us-east-1"
    if role_arn is None:
        return boto3.Session(botocore_session=source).client("s3", region_name=region)

    from crosstrack.reporter.errors import CredentialsError
    from crosstrack.reporter.session import CrossAccountSessions, role_session_name

    try:
        return CrossAccountSessions(source=source).s3(
            role_arn,
            external_id=external_id,
            session_name=role_session_name("crosstrack-log", None),
            region=region,
        )
    except CredentialsError as exc:
        raise LogAccessError(str(exc)) from exc


@dataclass(frozen=True)
class Fetched:
    """One conditional GET: ``body`` None when unchanged (304) or missing."""

    key: str
    body: bytes | None
    etag: str | None
    missing: bool = False


class S3Log:
    """Reads the log objects of one :class:`LogLocation` with one S3 client."""

    def __init__(self, client: Any, location: LogLocation) -> None:
        self.client = client
        self.location = location

    def _where(self, key: str) -> str:
        return f"s3://{self.location.bucket}/{key}"

    def fetch(self, key: str, etag: str | None = None, *, missing_ok: bool = False) -> Fetched:
        """GET ``key``, conditional on ``etag`` (304: body None, same etag)."""
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, str] = {"Bucket": self.location.bucket, "Key": key}
        if etag is not None:
            kwargs["IfNoneMatch"] = etag
        try:
            response = self.client.get_object(**kwargs)
            body: bytes = response["Body"].read()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            if status == 304 or code in {"304", "NotModified"}:
                return Fetched(key, None, etag)
            if code == "NoSuchKey" and missing_ok:
                return Fetched(key, None, None, missing=True)
            if code == "NoSuchKey":
                raise LogNotFoundError(f"{self._where(key)} does not exist") from None
            if code == "NoSuchBucket":
                raise LogNotFoundError(f"bucket {self.location.bucket} does not exist") from None
            if status == 403 or code in {"AccessDenied", "Forbidden", "InvalidAccessKeyId"}:
                raise LogAccessError(
                    f"{self._where(key)}: s3:GetObject was denied ({status} {code}). Read it "
                    "as account B: --profile account-b, or --role-arn <role B> to assume it "
                    "from your credentials (without s3:ListBucket, S3 also answers 403 for a "
                    "key that does not exist)"
                ) from None
            raise LogbookError(f"{self._where(key)}: {status} {code}: {exc}") from None
        except BotoCoreError as exc:
            raise LogbookError(f"{self._where(key)}: {exc}") from None
        return Fetched(key, body, str(response.get("ETag") or "") or None)

    def daily_keys(self, first: date, last: date) -> list[str]:
        """The daily objects from ``first`` to ``last``: listed if allowed, else by name."""
        from botocore.exceptions import BotoCoreError, ClientError

        wanted = {
            self.location.key_for(first + timedelta(days=n)): None
            for n in range((last - first).days + 1)
        }
        stem = posixpath.splitext(self.location.key)[0]
        found: set[str] = set()
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.location.bucket, Prefix=f"{stem}/"):
                found.update(str(o["Key"]) for o in page.get("Contents", []))
        except (ClientError, BotoCoreError):
            return list(wanted)  # no s3:ListBucket: try every day by its key
        return [k for k in wanted if k in found]

    def read(
        self,
        since: datetime | None,
        until: datetime | None,
        now: datetime,
        *,
        exclude: Collection[str] = (),
    ) -> list[Fetched]:
        """Every object of the selection window but ``exclude``, oldest day first."""
        if self.location.layout == "single":
            return [] if self.location.key in exclude else [self.fetch(self.location.key)]
        last = (until or now).astimezone(UTC).date()
        first = (
            since.astimezone(UTC).date()
            if since is not None
            else last - timedelta(days=DEFAULT_DAILY_DAYS - 1)
        )
        fetched = []
        denied: LogAccessError | None = None
        for key in self.daily_keys(first, last):
            if key in exclude:
                continue
            try:
                fetched.append(self.fetch(key, missing_ok=True))
            except LogAccessError as exc:  # a day with no object, seen without ListBucket
                denied = exc
        if denied is not None and not any(f.body is not None for f in fetched):
            raise denied
        return [f for f in fetched if f.body is not None]
