"""State from ``terraform show -json`` of a saved plan: offline, before deploying.

The planned values of infra/'s resources become the same :class:`State` the live collector
builds. A value Terraform knows only after apply is either derived from what is known (a
role's ARN from its account and name, a function's or schedule's ARN from region, account
and name) or recorded as unreadable ("known only after apply"), so its rows say ``unknown``;
it is never guessed. Accounts come from the ``aws_caller_identity`` data sources Terraform
read while planning (https://developer.hashicorp.com/terraform/internals/json-format).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from crosstrack.doctor import model
from crosstrack.doctor.checks import ADDR

AFTER_APPLY = "known only after apply"
Resources = dict[str, Mapping[str, Any]]


def _walk(module: Mapping[str, Any] | None) -> Iterator[Mapping[str, Any]]:
    if not module:
        return
    yield from module.get("resources") or []
    for child in module.get("child_modules") or []:
        yield from _walk(child)


def load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        if not text.strip():
            raise model.DoctorInputError(f"the plan {path} is empty")
        loaded = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise model.DoctorInputError(f"cannot read the plan {path}: {exc}") from None
    if not isinstance(loaded, dict) or "planned_values" not in loaded:
        raise model.DoctorInputError(
            f"{path} is not `terraform show -json` of a saved plan (no planned_values): run "
            "`terraform plan -out=plan.tfplan && terraform show -json plan.tfplan > plan.json`"
        )
    return loaded


def _resources(plan: Mapping[str, Any]) -> Resources:
    found: Resources = {}
    prior = (plan.get("prior_state") or {}).get("values") or {}
    for source in (prior.get("root_module"), (plan.get("planned_values") or {}).get("root_module")):
        for r in _walk(source):
            if isinstance(r, Mapping) and isinstance(r.get("address"), str):
                found[r["address"]] = r  # planned values override the prior state
    return found


def _values(resources: Resources, address: str) -> Mapping[str, Any] | None:
    r = resources.get(address)
    return None if r is None else (r.get("values") or {})


def _json(text: Any) -> dict[str, Any] | None:
    if isinstance(text, dict):
        return text
    if not isinstance(text, str) or not text:
        return None
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else None


def _account(resources: Resources, module: str) -> str | None:
    values = _values(resources, f"{module}.data.aws_caller_identity.current")
    account = values.get("account_id") if values else None
    return account if isinstance(account, str) else None


def _role(resources: Resources, key: str, account: str | None, region: str) -> model.RoleState:
    address = ADDR[key]
    values = _values(resources, address) or {}
    name = values.get("name")
    arn = values.get("arn")
    if not isinstance(arn, str):
        arn = f"arn:aws:iam::{account}:role/{name}" if account and name else ""
    role = model.RoleState(arn or f"arn:aws:iam::unknown:role/{name or key}", address)
    role.max_session_seconds = values.get("max_session_duration")
    trust = _json(values.get("assume_role_policy"))
    if trust is None:
        role.unreadable["trust"] = f"{AFTER_APPLY} ({address}.assume_role_policy)"
    role.trust = trust
    for r in resources.values():
        v = r.get("values") or {}
        if r.get("type") == "aws_iam_role_policy" and v.get("role") in (name, values.get("id")):
            document = _json(v.get("policy"))
            if document is None:
                role.unreadable["policies"] = f"{AFTER_APPLY} ({r['address']}.policy)"
            else:
                role.inline.append(
                    model.NamedPolicy(f"{name}/{v.get('name')}", document, r["address"])
                )
        if r.get("type") == "aws_iam_role_policy_attachment" and v.get("role") == name:
            role.unreadable["policies"] = (
                f"the managed policy {v.get('policy_arn')} attached by {r['address']} is not "
                "in the plan"
            )
    if not name:
        role.unreadable.setdefault("trust", f"{AFTER_APPLY} ({address}.name)")
        role.unreadable.setdefault("policies", f"{AFTER_APPLY} ({address}.name)")
    return role


def _storage(
    resources: Resources, account_b: str, fn: model.FunctionState, flags: Mapping[str, str]
) -> tuple[model.BucketState, model.KeyState | None]:
    bucket_values = _values(resources, "module.target.aws_s3_bucket.log") or {}
    bucket_name = (
        flags.get("bucket") or bucket_values.get("bucket") or fn.environment.get("BUCKET_NAME")
    )
    bucket = model.BucketState(str(bucket_name or "unknown-bucket"), account_b)
    if not bucket_name:
        bucket.unreadable["policy"] = f"{AFTER_APPLY} (the bucket's name: bucket_prefix)"
        bucket.unreadable["encryption"] = bucket.unreadable["policy"]
    policy_values = _values(resources, ADDR["bucket_policy"])
    if policy_values is not None:
        bucket.policy = _json(policy_values.get("policy"))
        if bucket.policy is None:
            bucket.unreadable["policy"] = f"{AFTER_APPLY} ({ADDR['bucket_policy']}.policy)"
    rule = ((_values(resources, ADDR["encryption"]) or {}).get("rule") or [{}])[0]
    default = (rule.get("apply_server_side_encryption_by_default") or [{}])[0]
    bucket.sse_algorithm = default.get("sse_algorithm") or "AES256"
    bucket.kms_key_id = default.get("kms_master_key_id") or None
    key = None
    key_values = _values(resources, ADDR["key"])
    if key_values is not None:
        key = model.KeyState(str(key_values.get("arn") or "the bucket's key"))
        key.policy = _json(key_values.get("policy"))
        if key.policy is None:
            key.unreadable["policy"] = f"{AFTER_APPLY} ({ADDR['key']}.policy)"
        bucket.kms_key_id = bucket.kms_key_id or key.arn
    return bucket, key


def collect_plan(path: Path, **flags: str) -> model.State:
    """The state a saved plan would leave behind (no network)."""
    plan = load(path)
    try:
        return _collect(path, plan, flags)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
        # The readers below trust the documented JSON shape; a hand-edited or foreign file that
        # breaks it is unreadable input (exit 2), not a crash.
        raise model.DoctorInputError(
            f"{path}: not `terraform show -json` of infra/'s plan (unexpected {type(exc).__name__}"
            f": {exc})"
        ) from None


def _collect(path: Path, plan: dict[str, Any], flags: Mapping[str, str]) -> model.State:
    resources = _resources(plan)
    fn_values = _values(resources, ADDR["function"])
    if fn_values is None:
        raise model.DoctorInputError(
            f"{path}: the plan has no {ADDR['function']} (is it infra/'s?)"
        )
    variables = {k: (v or {}).get("value") for k, v in (plan.get("variables") or {}).items()}
    region = str(flags.get("region") or variables.get("region") or "us-east-1")
    account_a = _account(resources, "module.source")
    account_b = _account(resources, "module.target")
    if account_a is None or account_b is None:
        raise model.DoctorInputError(f"{path}: the plan does not say which accounts it deploys to")
    name = str(fn_values.get("function_name") or flags.get("function") or "")
    fn = model.FunctionState(
        name, str(fn_values.get("arn") or f"arn:aws:lambda:{region}:{account_a}:function:{name}")
    )
    fn.role_arn = fn_values.get("role") if isinstance(fn_values.get("role"), str) else None
    environment = (fn_values.get("environment") or [{}])[0].get("variables")
    if isinstance(environment, dict):
        fn.environment = {k: str(v) for k, v in environment.items()}
    else:
        fn.unreadable["configuration"] = f"{AFTER_APPLY} ({ADDR['function']}.environment)"
    role_a = _role(resources, "role_a", account_a, region)
    role_b = _role(resources, "role_b", account_b, region)
    if fn.role_arn is None:
        fn.role_arn = role_a.arn  # the module wires the function to role A
    fn.environment.setdefault("ACCOUNT2_ROLE_ARN", role_b.arn)
    bucket, key = _storage(resources, account_b, fn, flags)
    schedule, schedule_role = None, None
    sched_values = _values(resources, ADDR["schedule"])
    if sched_values is not None:
        sname = str(sched_values.get("name") or name)
        target = (sched_values.get("target") or [{}])[0]
        schedule = model.ScheduleState(
            sname,
            str(
                sched_values.get("arn")
                or f"arn:aws:scheduler:{region}:{account_a}:schedule/default/{sname}"
            ),
            role_arn=target.get("role_arn"),
            target_arn=target.get("arn") or fn.arn,
        )
        schedule_role = _role(resources, "schedule_role", account_a, region)
        schedule.role_arn = schedule.role_arn or schedule_role.arn
    return model.State(
        source="plan",
        region=region,
        account_a=account_a,
        account_b=account_b,
        function=fn,
        role_a=role_a,
        role_b=role_b,
        bucket=bucket,
        schedule=schedule,
        schedule_role=schedule_role,
        key=key,
        object_key=fn.environment.get("OBJECT_KEY", "iss_position.txt"),
        log_layout=fn.environment.get("LOG_LAYOUT", "single"),
    )
