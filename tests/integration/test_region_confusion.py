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

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.local_helpers import client, moto_user, operator_only_key_policy

from crosstrack.local import LocalAWS

SECRET = b"region-bound"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with LocalAWS(tmp_path_factory.mktemp("region-confusion")) as aws:
        operator = client(aws, "kms", region="eu-west-1")
        # A key of eu-west-1 that only the operator may use (no account delegation).
        key = operator.create_key(Policy=operator_only_key_policy())["KeyMetadata"]["Arn"]
        blob = operator.encrypt(KeyId=key, Plaintext=SECRET)["CiphertextBlob"]
        user = moto_user(
            "wide",
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"},
            policy_name="decrypt-anything",
        )
        yield {"aws": aws, "operator": operator, "key": key, "blob": blob, "user": user}


def test_a_user_agent_naming_another_region_is_refused_before_moto(world: dict[str, Any]) -> None:
    aws, blob = world["aws"], world["blob"]
    honest = client(aws, "kms", credentials=world["user"], region="eu-west-1")
    with pytest.raises(ClientError) as refused:
        honest.decrypt(CiphertextBlob=blob)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"

    sneaky = client(
        aws,
        "kms",
        credentials=world["user"],
        region="us-east-1",
        user_agent_extra="region/eu-west-1",
    )
    with pytest.raises(ClientError) as refused:
        sneaky.decrypt(CiphertextBlob=blob)
    error = refused.value.response["Error"]
    assert "region 'eu-west-1'" in error["Message"], error
    audit = Path(aws.audit_log).read_text().splitlines()
    assert "not supported by the local AWS" in audit[-1]
    assert "region 'eu-west-1'" in audit[-1]


def test_a_user_agent_naming_the_signed_region_is_served(world: dict[str, Any]) -> None:
    aws = world["aws"]
    operator = client(aws, "kms", region="eu-west-1", user_agent_extra="region/eu-west-1")
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
