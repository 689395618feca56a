"""The enforcement layer: every request moto serves is authenticated and decided here.

moto's own authorization is replaced (seams.py routes moto's one authorization hook to
:meth:`Enforcer.enforce_moto_request`). For each request: verify the SigV4 signature over
the bytes on the wire, resolve the key to a principal in *its* account, work out the IAM
action and resource, gather every policy that applies from the emulator's state, let
``crosstrack.iam`` decide, audit the decision, and either let moto carry on or answer the
way the real service answers.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from crosstrack.local import actions, denials, function_sessions, policies, sigv4, tag_context
from crosstrack.local.accounts import PARTITION
from crosstrack.local.decisions import Decider, Question, Verdict
from crosstrack.local.denials import AwsErrorResponse, Problem
from crosstrack.local.principals import AuthenticationFailure, Caller, KeyProblem, authenticate
from crosstrack.local.principals import session_policy as stored_session_policy
from crosstrack.local.wire import WireRequest, current

# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining
ROLE_CHAINING_LIMIT_SECONDS = 3600
MIN_SESSION_SECONDS = 900

_KEY_PROBLEMS = {
    KeyProblem.UNKNOWN_KEY: Problem.UNKNOWN_KEY,
    KeyProblem.INACTIVE_KEY: Problem.UNKNOWN_KEY,
    KeyProblem.BAD_TOKEN: Problem.BAD_TOKEN,
    KeyProblem.TOKEN_ON_LONG_TERM_KEY: Problem.BAD_TOKEN,
    KeyProblem.MISSING_TOKEN: Problem.BAD_TOKEN,
    KeyProblem.EXPIRED: Problem.EXPIRED_TOKEN,
}

# Actions every authenticated principal may call with no policy at all.
# https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
_ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})


def _query(raw_query: str) -> dict[str, str]:
    return dict(parse_qsl(raw_query, keep_blank_values=True))


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Enforcer:
    def __init__(self, decider: Decider) -> None:
        self.decider = decider

    # ----------------------------------------------------------------- helpers
    def _via(self, wire: WireRequest) -> str:
        return "https" if wire.secure else "http"

    def base_context(
        self, wire: WireRequest, caller: Caller, region: str, resource_account: str | None
    ) -> dict[str, actions.ContextValue]:
        """Global condition keys AWS sets on every request
        (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)."""
        now = self.decider.clock()
        context: dict[str, actions.ContextValue] = {
            "aws:SecureTransport": "true" if wire.secure else "false",
            "aws:SourceIp": wire.source_ip,
            "aws:CurrentTime": _iso(now),
            "aws:EpochTime": str(int(now.timestamp())),
            "aws:RequestedRegion": region,
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

    def _question(
        self,
        caller: Caller,
        action: str,
        *,
        resource: str,
        resource_account: str | None,
        context: Mapping[str, actions.ContextValue],
        resource_policy: policies.NamedPolicy | None,
    ) -> Question:
        session = stored_session_policy(caller)
        return Question(
            principal=caller.arn,
            principal_arn=caller.principal_arn,
            account=caller.account,
            session_name=caller.session_name,
            action=action,
            resource=resource,
            resource_account=resource_account,
            context=dict(context),
            identity_policies=policies.identity_policies(caller),
            permission_boundary=policies.permissions_boundary(caller),
            session_policy=(
                {"name": f"session policy of {caller.arn}", "document": json.loads(session)}
                if session
                else None
            ),
            resource_policy=resource_policy,
        )

    def _deny(
        self,
        service: str,
        wire: WireRequest,
        caller: Caller,
        question: Question,
        verdict: Verdict,
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

    def _ask(self, wire: WireRequest, question: Question, note: str | None = None) -> Verdict:
        return self.decider.ask(
            question, via=self._via(wire), request_id=wire.request_id, note=note
        )

    # ---------------------------------------------------------- authentication
    def authenticate(self, wire: WireRequest, fallback_service: str) -> tuple[Caller, str, str]:
        """(caller, signing service, region) of a signed request, or the AWS error."""
        headers = wire.header_map()
        service = fallback_service
        try:
            signed = sigv4.parse(headers, wire.raw_query)
        except sigv4.MalformedAuthorization as exc:
            self._reject(wire, Problem.MALFORMED_AUTH, str(exc))
            raise denials.error(
                service, Problem.MALFORMED_AUTH, wire.request_id, str(exc)
            ) from None
        if signed is None:
            self._reject(wire, Problem.MISSING_AUTH, "request is not signed")
            raise denials.error(service, Problem.MISSING_AUTH, wire.request_id)
        service = "s3" if fallback_service == "s3" else signed.service
        now = self.decider.clock()
        try:
            caller = authenticate(signed.access_key_id, signed.session_token, now=now)
        except AuthenticationFailure as failure:
            problem = _KEY_PROBLEMS[failure.problem]
            self._reject(wire, problem, failure.problem.value, signed.access_key_id)
            raise denials.error(service, problem, wire.request_id) from None
        body = wire.body
        if not sigv4.verify(
            signed,
            caller.secret_access_key,
            method=wire.method,
            raw_path=wire.raw_path,
            raw_query=wire.raw_query,
            headers=headers,
            body=body,
        ):
            self._reject(wire, Problem.BAD_SIGNATURE, "signature mismatch", signed.access_key_id)
            raise denials.error(service, Problem.BAD_SIGNATURE, wire.request_id)
        if signed.presigned and signed.expires_seconds is not None:
            issued = dt.datetime.strptime(signed.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            if now > issued + dt.timedelta(seconds=signed.expires_seconds):
                self._reject(wire, Problem.PRESIGN_EXPIRED, "presigned URL expired")
                raise denials.error(service, Problem.PRESIGN_EXPIRED, wire.request_id)
        wire.caller_arn = caller.arn
        return caller, service, signed.region

    def _reject(
        self, wire: WireRequest, problem: Problem, detail: str, access_key_id: str | None = None
    ) -> None:
        self.decider.reject(
            request_id=wire.request_id,
            via=self._via(wire),
            reason=problem.value,
            detail={
                "detail": detail,
                "access_key_id": access_key_id,
                "method": wire.method,
                "path": wire.raw_path,
                "aws:SecureTransport": "true" if wire.secure else "false",
            },
        )

    # -------------------------------------------------------------- entry point
    def enforce_moto_request(self, response: Any, *, is_s3: bool, moto_resource: str) -> None:
        """Decide the request moto is about to serve; raise its AWS error when refused."""
        wire = current()
        if wire is None:
            raise RuntimeError("request reached moto outside the crosstrack local AWS server")
        caller, service, region = self.authenticate(wire, "s3" if is_s3 else "")
        if str(getattr(response, "current_account", caller.account)) != caller.account:
            # moto picks the account from the key the same way; disagreement means a moto change.
            raise RuntimeError(
                f"moto serves account {response.current_account} for a key of {caller.account}"
            )
        if is_s3:
            self._enforce_s3(wire, caller, region, moto_resource)
        else:
            self._enforce_service(response, wire, caller, service, region)

    # ---------------------------------------------------------------------- S3
    def _enforce_s3(
        self, wire: WireRequest, caller: Caller, region: str, moto_resource: str
    ) -> None:
        bucket, key = actions.split_s3_arn(moto_resource)
        query = _query(wire.raw_query)
        action = "s3:" + actions.s3_action(wire.method, bucket, key, query)
        if action == "s3:DeleteObject" and not key and bucket:
            # DeleteObjects: s3:DeleteObject on every key in the body.
            for name in _delete_keys(wire.body):
                self._decide_s3(
                    wire, caller, region=region, bucket=bucket, key=name, action=action, query=query
                )
            return
        self._decide_s3(
            wire, caller, region=region, bucket=bucket, key=key, action=action, query=query
        )

    def _decide_s3(
        self,
        wire: WireRequest,
        caller: Caller,
        *,
        region: str,
        bucket: str | None,
        key: str | None,
        action: str,
        query: Mapping[str, str],
    ) -> None:
        resource = actions.s3_resource(bucket, key)
        if (action, resource) in wire.decided:
            return
        owner = (policies.bucket_account(bucket) if bucket else None) or caller.account
        context = self.base_context(wire, caller, region, owner)
        context.update(actions.s3_context(action[3:], query, wire.header_map()))
        context["s3:ResourceAccount"] = owner
        context["s3:signatureversion"] = "AWS4-HMAC-SHA256"
        context["s3:authType"] = (
            "REST-QUERY-STRING" if "X-Amz-Signature" in query else "REST-HEADER"
        )
        bucket_policy = policies.bucket_policy(bucket) if bucket else None
        question = self._question(
            caller,
            action,
            resource=resource,
            resource_account=owner,
            context=context,
            resource_policy=bucket_policy,
        )
        verdict = self._ask(wire, question)
        if not verdict.allowed:
            raise self._deny("s3", wire, caller, question, verdict)
        wire.decided.add((action, resource))
        if bucket and key and action in ("s3:GetObject", "s3:GetObjectVersion"):
            self._missing_key_rule(
                wire,
                caller,
                region=region,
                bucket=bucket,
                key=key,
                owner=owner,
                bucket_policy=bucket_policy,
            )
            self._kms_for_read(wire, caller, region, bucket, key)
        if bucket and key and action == "s3:PutObject":
            self._kms_for_write(wire, caller, region, bucket)

    def _missing_key_rule(
        self,
        wire: WireRequest,
        caller: Caller,
        *,
        region: str,
        bucket: str,
        key: str,
        owner: str,
        bucket_policy: policies.NamedPolicy | None,
    ) -> None:
        """A missing key reads as 404 only to a caller allowed s3:ListBucket, else 403.

        https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax
        (Permissions): without s3:ListBucket S3 does not reveal whether the key exists.
        """
        found = policies.bucket(bucket)
        if found is None or key in found.keys:
            return
        resource = actions.s3_resource(bucket, None)
        context = self.base_context(wire, caller, region, owner)
        context["s3:ResourceAccount"] = owner
        question = self._question(
            caller,
            "s3:ListBucket",
            resource=resource,
            resource_account=owner,
            context=context,
            resource_policy=bucket_policy,
        )
        verdict = self._ask(wire, question, note=f"GetObject on missing key {key!r}")
        if not verdict.allowed:
            raise denials.error("s3", Problem.ACCESS_DENIED, wire.request_id, "Access Denied")

    def _kms_question(
        self,
        wire: WireRequest,
        caller: Caller,
        *,
        region: str,
        bucket: str,
        key_id: str,
        action: str,
    ) -> None:
        owner = policies.bucket_account(bucket) or caller.account
        kms_key = policies.kms_key(owner, key_id, region)
        if kms_key is None:
            return  # moto answers KMS.NotFoundException itself
        context = self.base_context(wire, caller, region, kms_key.account_id)
        context["kms:ViaService"] = f"s3.{region}.amazonaws.com"
        context["kms:CallerAccount"] = caller.account
        context["kms:EncryptionContext:aws:s3:arn"] = f"arn:{PARTITION}:s3:::{bucket}"
        question = self._question(
            caller,
            action,
            resource=kms_key.arn,
            resource_account=kms_key.account_id,
            context=context,
            resource_policy=policies.key_policy(kms_key),
        )
        verdict = self._ask(wire, question, note="SSE-KMS object in S3")
        if not verdict.allowed:
            raise self._deny("s3", wire, caller, question, verdict)

    def _kms_for_write(self, wire: WireRequest, caller: Caller, region: str, bucket: str) -> None:
        headers = wire.header_map()
        algorithm = headers.get("x-amz-server-side-encryption")
        key_id = headers.get("x-amz-server-side-encryption-aws-kms-key-id")
        if algorithm is None:
            found = policies.bucket(bucket)
            default = _find_key(getattr(found, "encryption", None) or {}, "SSEAlgorithm")
            algorithm = default
            key_id = _find_key(getattr(found, "encryption", None) or {}, "KMSMasterKeyID")
        if algorithm and algorithm.startswith("aws:kms") and key_id:
            self._kms_question(
                wire,
                caller,
                region=region,
                bucket=bucket,
                key_id=key_id,
                action="kms:GenerateDataKey",
            )

    def _kms_for_read(
        self, wire: WireRequest, caller: Caller, region: str, bucket: str, key: str
    ) -> None:
        found = policies.bucket(bucket)
        stored = found.keys.get(key) if found is not None else None
        if stored is None or not str(stored.encryption or "").startswith("aws:kms"):
            return
        if stored.kms_key_id:
            self._kms_question(
                wire,
                caller,
                region=region,
                bucket=bucket,
                key_id=stored.kms_key_id,
                action="kms:Decrypt",
            )

    # ------------------------------------------------------------ other services
    def _enforce_service(
        self, response: Any, wire: WireRequest, caller: Caller, service: str, region: str
    ) -> None:
        operation = str(response._get_action() or "")
        action = actions.iam_action(service, operation)

        def get(name: str) -> object:
            try:
                return response._get_param(name)
            except Exception:  # a parameter a protocol cannot carry is simply absent
                return None

        resource = actions.service_resource(
            service,
            operation,
            get,
            region=region,
            account=caller.account,
            role_arn=lambda name: _role_arn(caller.account, name),
            key_arn=lambda key: _key_arn(caller.account, key, region),
        )
        if (action, resource) in wire.decided:
            return
        owner = (
            actions.resource_account(resource, caller.account)
            if resource != "*"
            else caller.account
        )
        context = self.base_context(wire, caller, region, owner)
        context.update(tag_context.tag_context(action, resource, wire.body))
        if action in _ALWAYS_ALLOWED:
            question = self._question(
                caller,
                action,
                resource=resource,
                resource_account=owner,
                context=context,
                resource_policy=None,
            )
            self.decider.record(
                question,
                Verdict("allowed", None, [], [], f"{action} needs no permission"),
                via=self._via(wire),
                request_id=wire.request_id,
            )
            return
        if action == "sts:AssumeRole":
            self._assume_role(
                wire, caller, region=region, role_arn=resource, get=get, context=context
            )
            wire.decided.add((action, resource))
            return
        resource_policy = self._resource_policy(service, action, resource, caller.account, region)
        question = self._question(
            caller,
            action,
            resource=resource,
            resource_account=owner,
            context=context,
            resource_policy=resource_policy,
        )
        verdict = self._ask(wire, question)
        if not verdict.allowed:
            raise self._deny(service, wire, caller, question, verdict)
        wire.decided.add((action, resource))
        if action in actions.PASS_ROLE:
            self._pass_role(wire, caller, region, service, action)

    def _resource_policy(
        self, service: str, action: str, resource: str, account: str, region: str
    ) -> policies.NamedPolicy | None:
        if resource == "*":
            return None
        if service == "kms":
            key = policies.kms_key(account, resource, region)
            return policies.key_policy(key) if key is not None else None
        if service == "lambda" and ":function:" in resource:
            name = resource.split(":function:", 1)[1].split(":", maxsplit=1)[0]
            return policies.function_policy(
                actions.resource_account(resource, account), name, region
            )
        return None

    def _assume_role(
        self,
        wire: WireRequest,
        caller: Caller,
        *,
        region: str,
        role_arn: str,
        get: actions.Param,
        context: dict[str, actions.ContextValue],
    ) -> None:
        """AssumeRole: the target role is looked up in its own account and its trust
        policy must allow the caller explicitly
        (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html)."""
        session_name = get("RoleSessionName")
        if session_name:
            context["sts:RoleSessionName"] = str(session_name)
        for param, key in (
            ("ExternalId", "sts:ExternalId"),
            ("SourceIdentity", "sts:SourceIdentity"),
        ):
            value = get(param)
            if value:
                context[key] = str(value)
        owner = actions.resource_account(role_arn, caller.account)
        context["aws:ResourceAccount"] = owner
        role = policies.role_by_arn(role_arn)
        if role is None:
            question = self._question(
                caller,
                "sts:AssumeRole",
                resource=role_arn,
                resource_account=owner,
                context=context,
                resource_policy=None,
            )
            verdict = self.decider.refuse(
                question,
                explanation=f"the role {role_arn} does not exist, so nothing can assume it",
                decided_by="resource_policy",
                via=self._via(wire),
                request_id=wire.request_id,
            )
            raise self._deny("sts", wire, caller, question, verdict, explain=False)
        trust = policies.trust_policy(role)
        question = self._question(
            caller,
            "sts:AssumeRole",
            resource=role_arn,
            resource_account=owner,
            context=context,
            resource_policy=trust,
        )
        verdict = self._ask(wire, question)
        if not verdict.allowed:
            raise self._deny("sts", wire, caller, question, verdict, explain=False)
        if _has_session_tags(wire.body):
            # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required
            tag_question = self._question(
                caller,
                "sts:TagSession",
                resource=role_arn,
                resource_account=owner,
                context=context,
                resource_policy=trust,
            )
            tag_verdict = self._ask(wire, tag_question)
            if not tag_verdict.allowed:
                raise self._deny("sts", wire, caller, tag_question, tag_verdict, explain=False)
        self._check_duration(wire, caller, role, get)

    def _check_duration(
        self, wire: WireRequest, caller: Caller, role: Any, get: actions.Param
    ) -> None:
        raw = get("DurationSeconds")
        if raw is None:
            return
        duration = int(str(raw))
        if duration < MIN_SESSION_SECONDS:
            message = (
                f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed "
                f"to satisfy constraint: Member must have value greater than or equal to "
                f"{MIN_SESSION_SECONDS}"
            )
        elif caller.kind == "assumed-role" and duration > ROLE_CHAINING_LIMIT_SECONDS:
            message = (
                "The requested DurationSeconds exceeds the 1 hour session limit "
                "for roles assumed by role chaining."
            )
        elif duration > int(getattr(role, "max_session_duration", 3600) or 3600):
            message = (
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        else:
            return
        self.decider.reject(
            request_id=wire.request_id,
            via=self._via(wire),
            reason="invalid session duration",
            detail={"principal": caller.arn, "action": "sts:AssumeRole", "detail": message},
        )
        raise denials.validation_error("sts", message, wire.request_id)

    def _pass_role(
        self, wire: WireRequest, caller: Caller, region: str, service: str, action: str
    ) -> None:
        """Handing a role to a service needs iam:PassRole on it
        (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html)."""
        spec, to_service = actions.PASS_ROLE[action]
        try:
            body = json.loads(wire.body or b"{}")
        except ValueError:
            return
        for role_arn in actions.passed_roles(spec, body):
            owner = actions.resource_account(role_arn, caller.account)
            context = self.base_context(wire, caller, region, owner)
            context["iam:PassedToService"] = to_service
            question = self._question(
                caller,
                "iam:PassRole",
                resource=role_arn,
                resource_account=owner,
                context=context,
                resource_policy=None,
            )
            verdict = self._ask(wire, question, note=f"{action} passes the role to {to_service}")
            if not verdict.allowed:
                raise self._deny(service, wire, caller, question, verdict)


def _role_arn(account: str, name: str) -> str | None:
    from moto.iam.models import iam_backends

    backend = iam_backends[account][PARTITION]
    role = next((r for r in list(backend.roles.values()) if r.name == name), None)
    return None if role is None else str(role.arn)


def _key_arn(account: str, key_id: str, region: str) -> str | None:
    key = policies.kms_key(account, key_id, region)
    return None if key is None else str(key.arn)


def _find_key(node: object, name: str) -> str | None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == name and isinstance(value, str):
                return value
            found = _find_key(value, name)
            if found:
                return found
    if isinstance(node, list):
        for item in node:
            found = _find_key(item, name)
            if found:
                return found
    return None


def _delete_keys(body: bytes) -> list[str]:
    try:
        root = ET.fromstring(body)  # noqa: S314 - the body comes from the local caller itself
    except ET.ParseError:
        return []
    return [
        element.text or ""
        for element in root.iter()
        if element.tag.rsplit("}", 1)[-1] == "Key" and element.text
    ]


def _has_session_tags(body: bytes) -> bool:
    return any(
        name.startswith("Tags.member.") for name, _ in parse_qsl(body.decode("utf-8", "replace"))
    )
