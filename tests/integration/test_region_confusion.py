"""A request is served in the region it is signed for, never in one its User-Agent or URL names.

moto picks a request's region from a ``.<region>.amazonaws.com`` anywhere in the URL, else
``region/<region>`` in the User-Agent, before the signature's scope
(moto/core/responses.py ``get_region_from_url``), while the local AWS decides in the signed
region. AWS itself takes the region from the credential scope
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html),
so a request whose User-Agent or URL names another region is refused before moto sees it:
otherwise a key of eu-west-1 whose policy forbids the caller was decided in us-east-1 (no such
key there: on ``*``) and served from eu-west-1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from crosstrack.local import ACCOUNT_A, LocalAWS

SECRET = b"region-bound"


def _client(aws: LocalAWS, key: str, secret: str, region: str, agent: str | None = None) -> Any:
    return boto3.client(
        "kms",
        endpoint_url=aws.endpoint,
        verify=str(aws.ca_bundle),
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}, user_agent_extra=agent),
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from moto.iam.models import iam_backends

    with LocalAWS(tmp_path_factory.mktemp("region-confusion")) as aws:
        operator = _client(
            aws, aws.operator.access_key_id, aws.operator.secret_access_key, "eu-west-1"
        )
        # A key of eu-west-1 that only the operator may use (no account delegation).
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/operator"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
        key = operator.create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"]
        blob = operator.encrypt(KeyId=key, Plaintext=SECRET)["CiphertextBlob"]
        backend = iam_backends[ACCOUNT_A]["global"]
        backend.create_user(region_name="us-east-1", user_name="wide", path="/", tags=[])
        backend.put_user_policy(
            "wide",
            "decrypt-anything",
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}],
                }
            ),
        )
        access = backend.create_access_key("wide")
        yield {
            "aws": aws,
            "operator": operator,
            "key": key,
            "blob": blob,
            "user": (access.access_key_id, access.secret_access_key),
        }


def test_a_user_agent_naming_another_region_is_refused_before_moto(world: dict[str, Any]) -> None:
    aws, blob = world["aws"], world["blob"]
    honest = _client(aws, *world["user"], "eu-west-1")
    with pytest.raises(ClientError) as refused:
        honest.decrypt(CiphertextBlob=blob)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"

    sneaky = _client(aws, *world["user"], "us-east-1", agent="region/eu-west-1")
    with pytest.raises(ClientError) as refused:
        sneaky.decrypt(CiphertextBlob=blob)
    error = refused.value.response["Error"]
    assert "region 'eu-west-1'" in error["Message"], error
    audit = Path(aws.audit_log).read_text().splitlines()
    assert "not supported by the local AWS" in audit[-1]
    assert "region 'eu-west-1'" in audit[-1]


def test_a_user_agent_naming_the_signed_region_is_served(world: dict[str, Any]) -> None:
    aws = world["aws"]
    operator = _client(
        aws,
        aws.operator.access_key_id,
        aws.operator.secret_access_key,
        "eu-west-1",
        agent="region/eu-west-1",
    )
    assert operator.decrypt(CiphertextBlob=world["blob"])["Plaintext"] == SECRET


@pytest.mark.parametrize(
    ("path", "query", "agent", "named"),
    [
        ("/", "", "aws-cli/2.17 region/eu-west-1", "eu-west-1"),
        ("/2015-03-31/functions/f.eu-west-1.amazonaws.com/invocations", "", "", "eu-west-1"),
        ("/", "x=a.eu-west-1.amazonaws.com", "", "eu-west-1"),
        ("/", "x=a%2Eeu-west-1%2Eamazonaws%2Ecom", "", "eu-west-1"),  # moto may read it decoded
        ("/", "x=a.us-east-1.amazonaws.com", "region/eu-west-1", None),  # the URL wins, as in moto
    ],
)
def test_region_conflict_reads_what_moto_reads(
    path: str, query: str, agent: str, named: str | None
) -> None:
    from crosstrack.local.auth.selectors import region_conflict

    found = region_conflict(
        raw_path=path, raw_query=query, headers={"user-agent": agent}, signed_region="us-east-1"
    )
    assert (found is None) == (named is None)
    if named is not None:
        assert f"region {named!r}" in str(found)
    # The same request signed for the region it names is served.
    assert (
        region_conflict(
            raw_path=path,
            raw_query=query,
            headers={"user-agent": agent},
            signed_region=named or "us-east-1",
        )
        is None
    )
