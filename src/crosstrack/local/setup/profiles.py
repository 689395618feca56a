"""The shared AWS config and credentials files, and the export lines of design.md.

Profiles: ``default`` and ``account-a`` are the operator in A; ``account-b`` assumes B's
terraform role from ``account-a`` (https://docs.aws.amazon.com/cli/latest/userguide/
cli-configure-role.html), so the original's ``--profile account-b`` commands work as
written. S3 must be addressed path-style: virtual-hosted names cannot resolve to 127.0.0.1
(https://docs.aws.amazon.com/cli/latest/topic/s3-config.html#addressing-style), and presigned
URLs use SigV4 (the only signature S3 accepts for buckets created after June 2020).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from crosstrack.local.accounts import REGION
from crosstrack.local.setup.bootstrap import OperatorCredentials


@dataclass(frozen=True)
class Profiles:
    config_file: Path
    credentials_file: Path


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to a file that already existed
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def write(
    directory: Path,
    *,
    endpoint: str,
    ca_bundle: Path,
    operator: OperatorCredentials,
    terraform_role_arn: str,
    session_name: str,
) -> Profiles:
    """Write both files (mode 0600: they hold the operator's secret).

    ``session_name`` should differ between starts: awscli caches assumed-role credentials
    in ~/.aws/cli/cache keyed by role ARN and session name, and a session from a previous
    run of the emulator no longer exists.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    # signature_version: boto3's generate_presigned_url and `aws s3 presign` sign with SigV2
    # against a custom endpoint, which the local AWS refuses as S3 does for new buckets.
    s3_block = "s3 =\n    addressing_style = path\n    signature_version = s3v4\n"
    common = f"region = {REGION}\nendpoint_url = {endpoint}\nca_bundle = {ca_bundle}\n{s3_block}"
    config = (
        f"[default]\n{common}\n"
        f"[profile account-a]\n{common}\n"
        f"[profile account-b]\nrole_arn = {terraform_role_arn}\n"
        f"source_profile = account-a\nrole_session_name = {session_name}\n{common}"
    )
    key_lines = (
        f"aws_access_key_id = {operator.access_key_id}\n"
        f"aws_secret_access_key = {operator.secret_access_key}\n"
    )
    credentials = f"[default]\n{key_lines}\n[account-a]\n{key_lines}"
    profiles = Profiles(directory / "config", directory / "credentials")
    _write_private(profiles.config_file, config)
    _write_private(profiles.credentials_file, credentials)
    return profiles


def env(
    *,
    endpoint: str,
    ca_bundle: Path,
    operator: OperatorCredentials,
    profiles: Profiles,
) -> dict[str, str]:
    """Exactly the variables of design.md's export lines, in their order."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CA_BUNDLE": str(ca_bundle),
        "AWS_ACCESS_KEY_ID": operator.access_key_id,
        "AWS_SECRET_ACCESS_KEY": operator.secret_access_key,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(profiles.config_file),
        "AWS_SHARED_CREDENTIALS_FILE": str(profiles.credentials_file),
    }


def export_lines(variables: dict[str, str]) -> list[str]:
    # The values are paths, URLs and key material with no spaces or shell metacharacters
    # in practice; a workdir with a space would break `eval`, so quote only when needed.
    import shlex

    return [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]


# The AWS CLI reads AWS_ENDPOINT_URL and a profile's endpoint_url from 1.29.0 and 2.13.0 on
# (aws/aws-cli CHANGELOG, "service-specific endpoints"); an older one ignores both and sends
# the request to AWS itself.
_ENDPOINT_URL_SINCE = {1: (1, 29, 0), 2: (2, 13, 0)}
_VERSION = re.compile(r"aws-cli/(\d+)\.(\d+)\.(\d+)")


def aws_cli_warning(aws: str | None = None) -> str | None:
    """A warning when the ``aws`` on PATH (or ``aws``) is too old to follow these files to
    the local endpoint, else None (also when there is no ``aws``, or its version is unclear)."""
    found = aws or shutil.which("aws")
    if found is None:
        return None
    try:
        proc = subprocess.run(
            [found, "--version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(proc.stdout + proc.stderr)
    if match is None:
        return None
    version = tuple(int(part) for part in match.groups())
    since = _ENDPOINT_URL_SINCE.get(version[0])
    if since is None or version >= since:
        return None
    shown = ".".join(map(str, version))
    needed = ".".join(map(str, since))
    return (
        f"the aws on PATH ({found}, aws-cli/{shown}) ignores AWS_ENDPOINT_URL and the "
        f"profiles' endpoint_url (read from {needed} on): its commands would go to AWS "
        "itself, not here; upgrade it, or pass --endpoint-url and --ca-bundle to each command"
    )
