"""The enforcement layer: every request is authenticated, classified and decided here,
before moto sees it.

For each request (:meth:`Enforcer.admit`, called by the WSGI layer in server.py): check the
Host, verify the SigV4 signature over the bytes on the wire, the declared payload and the
request time, resolve the key to a principal in *its* account, classify the request as
exactly one operation of a served service (operations.py — anything else is refused as not
supported and never reaches moto), work out every IAM action and resource it needs, gather
every policy that applies from the emulator's state, let ``crosstrack.iam`` decide, and audit
each decision. moto's own authorization hook (seams.py) only checks that moto serves the
request that was admitted (:meth:`Enforcer.enforce_moto_request`). Requests moto would read
differently (selectors.py) are refused at classification.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from crosstrack.iam import Decision
from crosstrack.local.auth import (
    actions,
    denials,
    function_sessions,
    operation_actions,
    operations,
    payload,
    request_time,
    selectors,
    sigv4,
)
from crosstrack.local.auth.decisions import Decider, EngineFailure, Question
from crosstrack.local.auth.denials import AwsErrorResponse, Problem
from crosstrack.local.auth.principals import AuthenticationFailure, Caller, KeyProblem, authenticate
from crosstrack.local.services import enforce_s3, enforce_services, s3_rules
from crosstrack.local.transport.wire import WireRequest, current

_KEY_PROBLEMS = {
    KeyProblem.UNKNOWN_KEY: Problem.UNKNOWN_KEY,
    KeyProblem.INACTIVE_KEY: Problem.UNKNOWN_KEY,
    KeyProblem.BAD_TOKEN: Problem.BAD_TOKEN,
    KeyProblem.TOKEN_ON_LONG_TERM_KEY: Problem.BAD_TOKEN,
    KeyProblem.MISSING_TOKEN: Problem.BAD_TOKEN,
    KeyProblem.EXPIRED: Problem.EXPIRED_TOKEN,
}
_TIME_PROBLEMS = {
    "skewed": Problem.SKEWED,
    "expired": Problem.PRESIGN_EXPIRED,
    "parameters": Problem.PRESIGN_PARAMETERS,
}

_lock = threading.Lock()
_active: list[Enforcer] = []


def active() -> Enforcer | None:
    """The enforcer of the running local AWS (one per process, like moto's state)."""
    with _lock:
        return _active[-1] if _active else None


def _query(raw_query: str) -> dict[str, str]:
    return dict(parse_qsl(raw_query, keep_blank_values=True))


class Enforcer:
    def __init__(self, decider: Decider) -> None:
        self.decider = decider
        with _lock:
            _active.append(self)

    # ----------------------------------------------------------------- helpers
    def via(self, wire: WireRequest) -> str:
        return "https" if wire.secure else "http"

    def base_context(
        self, wire: WireRequest, caller: Caller, region: str, resource_account: str | None
    ) -> dict[str, actions.ContextValue]:
        """Global condition keys AWS sets on every request
        (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)."""
        context: dict[str, actions.ContextValue] = {
            **actions.request_context(self.decider.clock(), secure=wire.secure, region=region),
            "aws:SourceIp": wire.source_ip,
            "aws:PrincipalArn": caller.principal_arn,
            "aws:PrincipalAccount": caller.account,
            "aws:PrincipalType": "User" if caller.kind == "user" else "AssumedRole",
            "aws:userid": caller.user_id,
            "aws:ViaAWSService": "false",
        }
        if caller.kind == "user":
            context["aws:username"] = caller.name
        if resource_account:
            context["aws:ResourceAccount"] = resource_account
        context.update(function_sessions.context_for(caller.access_key_id))
        return context

    def deny(
        self,
        service: str,
        wire: WireRequest,
        caller: Caller,
        question: Question,
        verdict: Decision,
        *,
        explain: bool = True,
    ) -> AwsErrorResponse:
        message = denials.access_denied_message(
            caller.arn,
            question.action,
            question.resource,
            decision=verdict.decision,
            layer=verdict.decided_by,
            quote_resource=service == "s3",
            explain=explain,
        )
        return denials.error(service, Problem.ACCESS_DENIED, wire.request_id, message)

    def ask(self, wire: WireRequest, question: Question, note: str | None = None) -> Decision:
        return self.decider.ask(question, via=self.via(wire), request_id=wire.request_id, note=note)

    def require(
        self,
        service: str,
        wire: WireRequest,
        caller: Caller,
        question: Question,
        *,
        note: str | None = None,
        explain: bool = True,
    ) -> None:
        """Ask ``question``; raise ``service``'s AccessDenied error when it is refused."""
        verdict = self.ask(wire, question, note)
        if not verdict.allowed:
            raise self.deny(service, wire, caller, question, verdict, explain=explain)

    def reject(
        self, wire: WireRequest, problem: Problem, detail: str, access_key_id: str | None = None
    ) -> None:
        self.decider.reject(
            request_id=wire.request_id,
            via=self.via(wire),
            reason=problem.value,
            detail={
                "detail": detail,
                "access_key_id": access_key_id,
                "method": wire.method,
                "path": wire.raw_path,
                "aws:SecureTransport": "true" if wire.secure else "false",
            },
        )

    def refuse(
        self,
        wire: WireRequest,
        service: str,
        problem: Problem,
        detail: str,
        access_key_id: str | None = None,
    ) -> AwsErrorResponse:
        """Audit a refusal made before any policy is read and return its AWS error."""
        self.reject(wire, problem, detail, access_key_id)
        return denials.error(service, problem, wire.request_id, detail)

    def unsupported(self, wire: WireRequest, service: str, reason: str) -> AwsErrorResponse:
        return self.refuse(
            wire, service, Problem.UNSUPPORTED, f"{reason}: not supported by the local AWS"
        )

    # ---------------------------------------------------------- authentication
    def authenticate(self, wire: WireRequest, service: str) -> tuple[Caller, sigv4.SignedRequest]:
        """(caller, signing data) of a signed request, or the AWS error."""
        headers = wire.header_map()
        try:
            signed = sigv4.parse(headers, wire.raw_query)
        except sigv4.SigV4aNotSupported as exc:
            raise self.unsupported(wire, service, str(exc)) from None
        except sigv4.SigV2NotSupported as exc:
            raise self.refuse(wire, service, Problem.SIGV2, str(exc)) from None
        except sigv4.MalformedAuthorization as exc:
            problem = (
                Problem.PRESIGN_PARAMETERS
                if "X-Amz-Algorithm" in wire.raw_query and service == "s3"
                else Problem.MALFORMED_AUTH
            )
            raise self.refuse(wire, service, problem, str(exc)) from None
        if signed is None:
            raise self.refuse(wire, service, Problem.MISSING_AUTH, "request is not signed")
        now = self.decider.clock()
        try:
            caller = authenticate(signed.access_key_id, signed.session_token, now=now)
        except AuthenticationFailure as failure:
            problem = _KEY_PROBLEMS[failure.problem]
            raise self.refuse(
                wire, service, problem, failure.problem.value, signed.access_key_id
            ) from None
        if not sigv4.verify(
            signed,
            caller.secret_access_key,
            method=wire.method,
            raw_path=wire.raw_path,
            raw_query=wire.raw_query,
            headers=headers,
            body=wire.body,
        ):
            raise self.refuse(
                wire, service, Problem.BAD_SIGNATURE, "signature mismatch", signed.access_key_id
            )
        late = request_time.check(signed, now)
        if late is not None:
            raise self.refuse(
                wire, service, _TIME_PROBLEMS[late.kind], late.message, signed.access_key_id
            )
        self._check_payload(wire, service, signed, caller, headers)
        wire.caller_arn = caller.arn
        return caller, signed

    def _check_payload(
        self,
        wire: WireRequest,
        service: str,
        signed: sigv4.SignedRequest,
        caller: Caller,
        headers: Mapping[str, str],
    ) -> None:
        if service != "s3":
            return  # the other services sign the body's hash itself: verify() checked it
        declared = headers.get("x-amz-content-sha256")
        if declared is None and signed.presigned:
            declared = payload.UNSIGNED
        signing = payload.ChunkSigning(
            key=sigv4.signing_key(
                caller.secret_access_key, signed.scope_date, signed.region, signed.service
            ),
            amz_date=signed.amz_date,
            scope=sigv4.scope(signed),
            seed_signature=signed.signature,
        )
        body_checksums = wire.method == "PUT" and "x-amz-copy-source" not in headers
        try:
            payload.check(
                declared, headers, wire.body, signing=signing, body_checksums=body_checksums
            )
        except payload.PayloadError as exc:
            self.reject(wire, Problem.BAD_SIGNATURE, f"{exc.code}: {exc.message}")
            raise denials.s3_error(exc.status, exc.code, exc.message, wire.request_id) from None

    # -------------------------------------------------------------- entry point
    def admit(self, wire: WireRequest) -> None:
        """Decide a request before moto serves it; raise its AWS error when refused."""
        headers = wire.header_map()
        scope_service = sigv4.scope_service(headers, wire.raw_query)
        fmt = "s3" if scope_service in (None, "s3") else scope_service
        host = headers.get("host", "")
        if host not in (f"127.0.0.1:{wire.listener_port}", f"localhost:{wire.listener_port}"):
            raise self.unsupported(
                wire,
                fmt,
                f"Host {host!r} (only 127.0.0.1:{wire.listener_port} is served, path-style for S3)",
            )
        if (
            wire.method == "POST"
            and fmt == "s3"
            and headers.get("content-type", "").startswith("multipart/form-data")
            and "authorization" not in headers
        ):
            enforce_s3.admit_form_upload(self, wire)
            return
        if scope_service is None:
            # Unsigned by design: STS's identity-provider logins (moto would route them).
            action = operations.query_params(wire.raw_query, wire.body, headers).get("Action")
            reason = operation_actions.unsupported_reason("sts", str(action))
            if action in ("AssumeRoleWithSAML", "AssumeRoleWithWebIdentity") and reason:
                raise self.unsupported(wire, "sts", f"sts:{action} ({reason})")
        caller, signed = self.authenticate(wire, fmt)
        service = operations.SERVED.get(signed.service)
        if service is None:
            raise self.unsupported(wire, fmt, f"the service {signed.service!r}")
        if signed.presigned and service != "s3":
            raise self.unsupported(wire, fmt, f"presigned {service} requests")
        if service != "s3":
            conflict = selectors.region_conflict(
                raw_path=wire.raw_path,
                raw_query=wire.raw_query,
                headers=headers,
                signed_region=signed.region,
            )
            if conflict is not None:
                raise self.unsupported(wire, fmt, conflict)
        found = self.classify(wire, service, headers)
        wire.admitted = found
        wire.region = signed.region
        try:
            if service == "s3":
                enforce_s3.enforce(self, wire, caller, signed.region, found)
            else:
                enforce_services.enforce(self, wire, caller, signed.region, found)
        except EngineFailure as exc:  # a bug (traceback on stderr already), not a denial
            raise denials.error(fmt, Problem.INTERNAL, wire.request_id, str(exc)) from None

    def classify(
        self, wire: WireRequest, service: str, headers: Mapping[str, str]
    ) -> operations.Classified:
        """The one served operation the request is, or the "not supported" refusal."""
        if service != "s3" and (undecodable := selectors.undecodable(wire.body, headers)):
            raise self.refuse(wire, service, Problem.MALFORMED_INPUT, undecodable)
        query = _query(wire.raw_query)
        repeated = selectors.repeated_keys(wire.raw_query)
        if repeated:
            # moto reads the first of repeated values, this layer (and its condition keys)
            # the last: `?prefix=theirs&prefix=mine` listed what s3:prefix forbade.
            raise self.unsupported(wire, service, f"repeated query parameter(s) {repeated}")
        found: operations.Classified | operations.Unclassified
        try:
            if service == "s3":
                found = s3_rules.classify(wire.method, wire.raw_path, query, headers)
            elif operations.protocols(service)[0].startswith("rest"):
                found = operations.classify_rest(
                    service,
                    method=wire.method,
                    raw_path=wire.raw_path,
                    query=query,
                    headers=headers,
                    body=wire.body,
                    served=operation_actions.served(service),
                )
            else:
                found = operations.classify_rpc(
                    service,
                    method=wire.method,
                    raw_path=wire.raw_path,
                    raw_query=wire.raw_query,
                    headers=headers,
                    body=wire.body,
                )
        except operations.JsonTooDeep:
            raise self.unsupported(wire, service, "a JSON body nested too deeply") from None
        if isinstance(found, operations.Unclassified):
            raise self.unsupported(wire, service, found.reason)
        if service != "s3":
            conflict = selectors.selector_conflict(
                found, raw_query=wire.raw_query, body=wire.body, headers=headers
            )
            if conflict is not None:
                raise self.unsupported(wire, service, conflict)
        reason = operation_actions.unsupported_reason(service, found.operation)
        if reason is not None:
            raise self.unsupported(wire, service, f"{service}:{found.operation} ({reason})")
        if found.protocol == "smithy-rpc-v2-cbor":
            raise self.unsupported(
                wire, service, f"{service}:{found.operation} over rpc-v2-cbor (moto speaks JSON)"
            )
        if found.unknown_query:
            raise self.unsupported(
                wire,
                service,
                f"{service}:{found.operation} with query parameter(s) "
                f"{', '.join(found.unknown_query)}",
            )
        return found

    def enforce_moto_request(self, response: Any, *, is_s3: bool, moto_resource: str) -> None:
        """moto's authorization hook: moto may only serve the request that was admitted."""
        wire = current()
        if wire is None:
            raise RuntimeError("request reached moto outside the crosstrack local AWS server")
        found = wire.admitted
        if not isinstance(found, operations.Classified) or wire.caller_arn is None:
            raise RuntimeError("moto was about to serve a request the local AWS did not admit")
        account = wire.caller_arn.split(":")[4]
        if str(getattr(response, "current_account", account)) != account:
            # moto picks the account from the key the same way; disagreement means a moto change.
            raise RuntimeError(
                f"moto serves account {response.current_account} for a key of {account}"
            )
        region = getattr(response, "region", wire.region)
        if not is_s3 and wire.region is not None and region != wire.region:
            # region_conflict refused every request moto reads another region from.
            raise RuntimeError(
                f"moto serves region {region} for a request signed for {wire.region}"
            )
        served_service = "s3" if is_s3 else _moto_service(response)
        if (found.service == "s3") != is_s3 or (served_service and served_service != found.service):
            raise RuntimeError(
                f"moto serves {served_service} for a request admitted as {found.service}"
            )
        # moto runs the operation a parameter named Action names, before X-Amz-Target or
        # the route (operations.selector_conflict refuses such requests up front).
        selected = (getattr(response, "querystring", None) or {}) if not is_s3 else {}
        action = selected.get("Action") if isinstance(selected, Mapping) else None
        if isinstance(action, list):
            action = action[0] if action else None
        if action is not None and action != found.operation:
            raise RuntimeError(f"moto runs {action!r} for a request admitted as {found.operation}")


def _moto_service(response: Any) -> str:
    name = str(getattr(response, "service_name", "") or "")
    # moto's own names where they differ from botocore's (moto/awslambda/responses.py).
    return {"monitoring": "cloudwatch", "awslambda": "lambda"}.get(name, name)
