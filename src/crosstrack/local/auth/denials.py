"""Errors in each service's own wire format, with AWS's message shapes.

Clients parse errors by protocol (https://smithy.io/2.0/aws/protocols/): the query protocol
(IAM, STS) answers ``<ErrorResponse><Error><Type/><Code/><Message/>``, JSON 1.1 services
(KMS, CloudWatch Logs, EventBridge) answer ``{"__type", "message"}``, REST-JSON services
(Lambda, Scheduler) the same body with an ``x-amzn-ErrorType`` header, and S3 answers
``<Error><Code/><Message/><RequestId/>``. An error shaped any other way shows up in boto3,
awscli or Terraform as an unparseable response instead of the AccessDenied a user expects.

Access-denied messages follow
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html:
``User: <principal> is not authorized to perform: <action> on resource: <resource>
because no <policy type> allows the <action> action`` (implicit deny) or ``… with an explicit
deny in a <policy type>``. STS never says why an AssumeRole was refused.
"""

from __future__ import annotations

import enum
import functools
import json
from xml.sax.saxutils import escape

from botocore.loaders import Loader
from werkzeug.exceptions import HTTPException

from crosstrack.iam import Layer, Verdict

# Signing names whose API model name differs.
_MODEL_NAMES = {"execute-api": "apigateway", "states": "stepfunctions", "monitoring": "cloudwatch"}


class Family(enum.Enum):
    QUERY = "query"
    JSON = "json"
    REST_JSON = "rest-json"
    S3 = "rest-xml"


@functools.cache
def family(service: str) -> Family:
    """The error format of a service, from its botocore model (the SDKs' own source)."""
    if service == "s3":
        return Family.S3
    try:
        model = Loader().load_service_model(_MODEL_NAMES.get(service, service), "service-2")
        protocol = str(model["metadata"]["protocol"])
    except Exception:  # an unknown service: JSON is what most modern services speak
        return Family.JSON
    return {
        "query": Family.QUERY,
        "ec2": Family.QUERY,
        "json": Family.JSON,
        "rest-json": Family.REST_JSON,
        "rest-xml": Family.S3,
    }.get(protocol, Family.JSON)


class AwsErrorResponse(HTTPException):
    """A complete AWS error response; moto's dispatch and Flask both return it as is."""

    def __init__(self, service: str, status: int, code: str, message: str, request_id: str):
        super().__init__(description=message)
        self.code = status
        self.aws_code = code
        self.aws_message = message
        self.request_id = request_id
        self.family = family(service)
        self.description = self._body()

    def _body(self) -> str:
        message, code, rid = escape(self.aws_message), escape(self.aws_code), self.request_id
        if self.family is Family.QUERY:
            return (
                "<ErrorResponse><Error><Type>Sender</Type>"
                f"<Code>{code}</Code><Message>{message}</Message></Error>"
                f"<RequestId>{rid}</RequestId></ErrorResponse>"
            )
        if self.family is Family.S3:
            return (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{code}</Code><Message>{message}</Message>"
                f"<RequestId>{rid}</RequestId><HostId>{rid}</HostId></Error>"
            )
        body = {"__type": self.aws_code, "message": self.aws_message}
        if self.family is Family.REST_JSON:
            body["Type"] = "User"
        return json.dumps(body)

    def get_body(self, *args: object, **kwargs: object) -> str:
        return self.description or ""

    def get_headers(self, *args: object, **kwargs: object) -> list[tuple[str, str]]:
        content_type = (
            "application/xml"
            if self.family in (Family.QUERY, Family.S3)
            else "application/x-amz-json-1.1"
            if self.family is Family.JSON
            else "application/json"
        )
        return [
            ("Content-Type", content_type),
            ("x-amzn-ErrorType", self.aws_code),
            ("x-amzn-RequestId", self.request_id),
        ]


class Problem(enum.Enum):
    """Everything the enforcement layer refuses, before or after the policy decision."""

    MISSING_AUTH = "missing authentication"
    MALFORMED_AUTH = "malformed authorization"
    UNKNOWN_KEY = "unknown access key"
    BAD_TOKEN = "invalid session token"  # noqa: S105 - a problem name, not a secret
    EXPIRED_TOKEN = "expired session token"  # noqa: S105 - a problem name, not a secret
    BAD_SIGNATURE = "signature mismatch"
    PRESIGN_EXPIRED = "presigned URL expired"
    PRESIGN_PARAMETERS = "invalid presigned URL parameters"
    ACCESS_DENIED = "access denied"
    UNSUPPORTED = "not supported by the local AWS"
    MALFORMED_INPUT = "malformed input"  # answered by the caller with the service's own code
    SIGV2 = "signature version 2"
    SKEWED = "request time too skewed"
    TOO_LARGE = "request body too large"
    INTERNAL = "internal error"  # a bug of the local AWS (decisions.EngineFailure)


_SIG_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
_S3_SIG_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
_TOKEN_MESSAGE = "The security token included in the request is invalid."  # noqa: S105
_EXPIRED_MESSAGE = "The security token included in the request is expired"

# (status, code, message) per problem and family; None message = use the given one.
_TABLE: dict[tuple[Problem, Family], tuple[int, str, str | None]] = {
    (Problem.MISSING_AUTH, Family.QUERY): (
        403,
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
    ),
    (Problem.MISSING_AUTH, Family.JSON): (
        400,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    ),
    (Problem.MISSING_AUTH, Family.REST_JSON): (
        403,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    ),
    (Problem.MISSING_AUTH, Family.S3): (403, "AccessDenied", "Access Denied"),
    (Problem.MALFORMED_AUTH, Family.QUERY): (400, "IncompleteSignature", None),
    (Problem.MALFORMED_AUTH, Family.JSON): (400, "IncompleteSignatureException", None),
    (Problem.MALFORMED_AUTH, Family.REST_JSON): (403, "IncompleteSignatureException", None),
    (Problem.MALFORMED_AUTH, Family.S3): (400, "AuthorizationHeaderMalformed", None),
    (Problem.UNKNOWN_KEY, Family.QUERY): (403, "InvalidClientTokenId", _TOKEN_MESSAGE),
    (Problem.UNKNOWN_KEY, Family.JSON): (400, "UnrecognizedClientException", _TOKEN_MESSAGE),
    (Problem.UNKNOWN_KEY, Family.REST_JSON): (403, "UnrecognizedClientException", _TOKEN_MESSAGE),
    (Problem.UNKNOWN_KEY, Family.S3): (
        403,
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
    ),
    (Problem.BAD_TOKEN, Family.QUERY): (403, "InvalidClientTokenId", _TOKEN_MESSAGE),
    (Problem.BAD_TOKEN, Family.JSON): (400, "UnrecognizedClientException", _TOKEN_MESSAGE),
    (Problem.BAD_TOKEN, Family.REST_JSON): (403, "UnrecognizedClientException", _TOKEN_MESSAGE),
    (Problem.BAD_TOKEN, Family.S3): (
        400,
        "InvalidToken",
        "The provided token is malformed or otherwise invalid.",
    ),
    (Problem.EXPIRED_TOKEN, Family.QUERY): (403, "ExpiredToken", _EXPIRED_MESSAGE),
    (Problem.EXPIRED_TOKEN, Family.JSON): (400, "ExpiredTokenException", _EXPIRED_MESSAGE),
    (Problem.EXPIRED_TOKEN, Family.REST_JSON): (403, "ExpiredTokenException", _EXPIRED_MESSAGE),
    (Problem.EXPIRED_TOKEN, Family.S3): (400, "ExpiredToken", "The provided token has expired."),
    (Problem.BAD_SIGNATURE, Family.QUERY): (403, "SignatureDoesNotMatch", _SIG_MESSAGE),
    (Problem.BAD_SIGNATURE, Family.JSON): (400, "InvalidSignatureException", _SIG_MESSAGE),
    (Problem.BAD_SIGNATURE, Family.REST_JSON): (403, "InvalidSignatureException", _SIG_MESSAGE),
    (Problem.BAD_SIGNATURE, Family.S3): (403, "SignatureDoesNotMatch", _S3_SIG_MESSAGE),
    (Problem.PRESIGN_EXPIRED, Family.S3): (403, "AccessDenied", "Request has expired"),
    (Problem.PRESIGN_PARAMETERS, Family.S3): (400, "AuthorizationQueryParametersError", None),
    # A request the local AWS does not serve: the answer each protocol gives an unknown
    # operation (https://smithy.io/2.0/aws/protocols/, "Unknown operations").
    (Problem.UNSUPPORTED, Family.QUERY): (400, "InvalidAction", None),
    (Problem.UNSUPPORTED, Family.JSON): (400, "UnknownOperationException", None),
    (Problem.UNSUPPORTED, Family.REST_JSON): (404, "UnknownOperationException", None),
    (Problem.UNSUPPORTED, Family.S3): (501, "NotImplemented", None),
    # A body the service cannot deserialize (https://smithy.io/2.0/aws/protocols/).
    (Problem.MALFORMED_INPUT, Family.QUERY): (400, "MalformedInput", None),
    (Problem.MALFORMED_INPUT, Family.JSON): (400, "SerializationException", None),
    (Problem.MALFORMED_INPUT, Family.REST_JSON): (400, "SerializationException", None),
    (Problem.MALFORMED_INPUT, Family.S3): (400, "InvalidArgument", None),
    (Problem.SIGV2, Family.QUERY): (400, "InvalidAction", None),
    (Problem.SIGV2, Family.JSON): (400, "UnknownOperationException", None),
    (Problem.SIGV2, Family.REST_JSON): (404, "UnknownOperationException", None),
    (Problem.SIGV2, Family.S3): (400, "InvalidRequest", None),
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html
    # (a request more than 15 minutes off the server's clock).
    (Problem.SKEWED, Family.QUERY): (403, "SignatureDoesNotMatch", None),
    (Problem.SKEWED, Family.JSON): (400, "InvalidSignatureException", None),
    (Problem.SKEWED, Family.REST_JSON): (403, "InvalidSignatureException", None),
    (Problem.SKEWED, Family.S3): (
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
    ),
    (Problem.TOO_LARGE, Family.QUERY): (413, "RequestEntityTooLarge", None),
    (Problem.TOO_LARGE, Family.JSON): (413, "RequestEntityTooLargeException", None),
    (Problem.TOO_LARGE, Family.REST_JSON): (413, "RequestEntityTooLargeException", None),
    (Problem.TOO_LARGE, Family.S3): (400, "EntityTooLarge", None),
    # A bug of the local AWS, never a policy problem: S3's InternalError, and the common
    # error InternalFailure elsewhere (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html,
    # https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
    (Problem.INTERNAL, Family.QUERY): (500, "InternalFailure", None),
    (Problem.INTERNAL, Family.JSON): (500, "InternalFailure", None),
    (Problem.INTERNAL, Family.REST_JSON): (500, "InternalFailure", None),
    (Problem.INTERNAL, Family.S3): (500, "InternalError", None),
    (Problem.ACCESS_DENIED, Family.QUERY): (403, "AccessDenied", None),
    (Problem.ACCESS_DENIED, Family.JSON): (400, "AccessDeniedException", None),
    (Problem.ACCESS_DENIED, Family.REST_JSON): (403, "AccessDeniedException", None),
    (Problem.ACCESS_DENIED, Family.S3): (403, "AccessDenied", None),
}


def error(service: str, problem: Problem, request_id: str, message: str = "") -> AwsErrorResponse:
    """The response AWS gives ``service``'s clients for ``problem``."""
    fam = family(service)
    key = (problem, fam) if (problem, fam) in _TABLE else (problem, Family.S3)
    status, code, fixed = _TABLE[key]
    return AwsErrorResponse(service, status, code, fixed or message, request_id)


def s3_error(status: int, code: str, message: str, request_id: str) -> AwsErrorResponse:
    """An S3 error with its own code (payload checks: BadDigest, XAmzContentSHA256Mismatch…)."""
    return AwsErrorResponse("s3", status, code, message, request_id)


def validation_error(service: str, message: str, request_id: str) -> AwsErrorResponse:
    """A 400 ValidationError (STS's answer to an impossible DurationSeconds)."""
    return AwsErrorResponse(service, 400, "ValidationError", message, request_id)


# The phrase AWS's access-denied messages use for each layer of the engine's decision
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
_POLICY_TYPES: dict[Layer | None, str] = {
    Layer.SCP: "service control policy",
    Layer.RCP: "resource control policy",
    Layer.PERMISSION_BOUNDARY: "permissions boundary",
    Layer.SESSION_POLICY: "session policy",
    Layer.RESOURCE_POLICY: "resource-based policy",
    Layer.IDENTITY: "identity-based policy",
    None: "identity-based policy",  # no layer decided (an invalid policy): AWS's usual phrase
}


def policy_type(layer: Layer | None) -> str:
    """The phrase AWS's access-denied messages use for the engine layer that decided."""
    return _POLICY_TYPES[layer]


def _article(phrase: str) -> str:
    return "an" if phrase[0] in "aeiou" else "a"


def access_denied_message(
    principal: str,
    action: str,
    resource: str,
    *,
    decision: Verdict,
    layer: Layer | None,
    quote_resource: bool = False,
    explain: bool = True,
) -> str:
    """``User: <principal> is not authorized to perform: <action> [on resource: …] [reason]``."""
    message = f"User: {principal} is not authorized to perform: {action}"
    if resource and resource != "*":
        message += f' on resource: "{resource}"' if quote_resource else f" on resource: {resource}"
    if not explain:
        return message
    phrase = policy_type(layer)
    if decision is Verdict.EXPLICIT_DENY:
        return f"{message} with an explicit deny in {_article(phrase)} {phrase}"
    return f"{message} because no {phrase} allows the {action} action"
