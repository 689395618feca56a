"""One read-only AWS call: a refusal or a missing resource becomes the reason a row prints
(``unknown`` or a failing row), never an exception the diagnosis does not expect."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from crosstrack.doctor.reads import Unreadable, policy_document, read


def _refusal(code: str, status: int = 400) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "..."},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "GetRole")


def _raising(exc: Exception) -> Any:
    def call() -> Any:
        raise exc

    return call


def test_an_answer_is_returned_as_it_is() -> None:
    assert read("iam:GetRole", "arn:aws:iam::1:role/r", lambda: {"Role": 1}) == {"Role": 1}


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (_refusal("AccessDenied", 403), "iam:GetRole denied on R"),
        (_refusal("AccessDeniedException"), "iam:GetRole denied on R"),
        (_refusal("SomethingNew", 403), "iam:GetRole denied on R"),  # any 403 is a refusal
        (_refusal("NoSuchEntity", 404), "does not exist: R (NoSuchEntity from iam:GetRole)"),
        (_refusal("Throttling"), "iam:GetRole on R failed: Throttling"),
        (
            EndpointConnectionError(endpoint_url="https://iam.example"),
            'iam:GetRole on R failed: Could not connect to the endpoint URL: "https://iam.example"',
        ),
    ],
)
def test_a_failed_call_is_unreadable_with_a_reason(error: Exception, reason: str) -> None:
    with pytest.raises(Unreadable) as caught:
        read("iam:GetRole", "R", _raising(error))
    assert caught.value.reason == reason
    assert caught.value.__cause__ is None  # the row's reason is the whole story


def test_any_other_exception_is_not_taken_for_a_refusal() -> None:
    with pytest.raises(KeyError):
        read("iam:GetRole", "R", _raising(KeyError("Role")))


@pytest.mark.parametrize(
    "raw",
    [
        {"Version": "2012-10-17", "Statement": []},
        '{"Version": "2012-10-17", "Statement": []}',
        "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%5D%7D",
    ],
)
def test_a_policy_document_as_iam_returns_it(raw: Any) -> None:
    assert policy_document(raw) == {"Version": "2012-10-17", "Statement": []}


def test_a_policy_document_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        policy_document("[1]")
