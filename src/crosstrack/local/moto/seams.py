"""The only places crosstrack reaches into moto, in one module.

moto decides authorization in one hook (``ActionAuthenticatorMixin
._authenticate_and_authorize_action``, which every service's dispatch and every S3 handler
calls with the request and, for S3, the bucket/key ARN) and, separately, applies bucket
policies itself — Deny statements only, ignoring Principal and Condition — through
``FakeBucket.get_permission`` (field-notes.md), and a sliver of KMS key policies through
``KmsResponse._validate_key_policy``. crosstrack replaces the first with its
enforcement layer and neutralises the others, so that the IAM engine alone decides.
moto cannot run a Lambda function without Docker: :func:`route_invoke` sends its
``LambdaFunction.invoke`` to crosstrack's runner instead.

These are moto internals: the pinned version and the exact attributes are checked at
install time (and by tests/unit/local/test_seams.py), so a moto upgrade fails loudly here
instead of silently turning enforcement off.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from crosstrack.local.errors import MotoSeamError

PINNED_MOTO = "5.2.5"

# (module, class, attribute) of every moto attribute crosstrack replaces or relies on.
PATCHED: tuple[tuple[str, str, str], ...] = (
    ("moto.core.authorization", "ActionAuthenticatorMixin", "_authenticate_and_authorize_action"),
    ("moto.s3.models", "FakeBucket", "get_permission"),
    ("moto.kms.responses", "KmsResponse", "_validate_key_policy"),
    ("moto.awslambda.models", "LambdaFunction", "invoke"),  # by route_invoke, not install
)
_INVOKE = PATCHED[3]
# Read, not replaced: how a request names its operation and parameters, and S3's ARN helper.
RELIED_ON: tuple[tuple[str, str, str], ...] = (
    (
        "moto.core.authorization",
        "ActionAuthenticatorMixin",
        "_authenticate_and_authorize_s3_action",
    ),
    ("moto.core.responses", "BaseResponse", "_get_action"),
    ("moto.core.responses", "BaseResponse", "_get_param"),
    # the region moto serves a request in (auth/selectors.region_conflict reads it the same way)
    ("moto.core.responses", "BaseResponse", "get_region_from_url"),
    ("moto.iam.access_control", "S3IAMRequest", "__init__"),
)

Handler = Callable[..., None]
# (function name, account, request body, request headers, response headers) -> response body
InvokeHandler = Callable[
    [str, str, bytes | str | None, Mapping[str, str], MutableMapping[str, str]], bytes
]

_lock = threading.Lock()
_originals: dict[tuple[str, str, str], Any] = {}


def _resolve(module: str, cls: str) -> Any:
    import importlib

    return getattr(importlib.import_module(module), cls)


def check() -> None:
    """Raise :class:`MotoSeamError` unless moto is the pinned version with every seam in place."""
    try:
        import moto
    except ImportError as exc:  # pragma: no cover - the CLI reports MissingDependencyError first
        raise MotoSeamError(f"moto is not installed: {exc}") from exc
    if moto.__version__ != PINNED_MOTO:
        raise MotoSeamError(
            f"crosstrack's local AWS patches moto {PINNED_MOTO} internals; found moto "
            f"{moto.__version__}. Install the pinned version (pip install 'moto[server]=="
            f"{PINNED_MOTO}') or re-verify the seams in crosstrack/local/moto/seams.py."
        )
    for module, cls, attribute in PATCHED + RELIED_ON:
        try:
            owner = _resolve(module, cls)
        except (ImportError, AttributeError) as exc:
            raise MotoSeamError(f"moto seam {module}.{cls} moved: {exc}") from exc
        if not callable(getattr(owner, attribute, None)):
            raise MotoSeamError(f"moto seam {module}.{cls}.{attribute} is gone")


def install(enforce: Callable[[Any, bool, str], None]) -> None:
    """Route moto's authorization to ``enforce(response, is_s3, moto_resource)``.

    Also makes AWS managed policies (``arn:aws:iam::aws:policy/…``) exist in every account,
    as they do in AWS, so configurations that attach them apply unchanged.
    """
    check()
    from moto.core.config import default_user_config
    from moto.iam.access_control import PermissionResult, S3IAMRequest

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        enforce(self, iam_request_cls is S3IAMRequest, resource)

    def no_bucket_policy_shortcut(self: Any, action: str, resource: str) -> Any:
        # Bucket policies are evaluated by the engine with their principals and conditions.
        return PermissionResult.NEUTRAL

    def no_key_policy_shortcut(self: Any, key_id: str, action: str) -> None:
        # moto's own partial key-policy check (DescribeKey with Principal "*" only); the
        # engine evaluates key policies in full.
        return None

    replacements: dict[tuple[str, str, str], Any] = {
        PATCHED[0]: authorize,
        PATCHED[1]: no_bucket_policy_shortcut,
        PATCHED[2]: no_key_policy_shortcut,
    }
    with _lock:
        if _originals:
            raise MotoSeamError("the moto seams are already installed (one local AWS per process)")
        for (module, cls, attribute), replacement in replacements.items():
            owner = _resolve(module, cls)
            _originals[(module, cls, attribute)] = owner.__dict__[attribute]
            setattr(owner, attribute, replacement)
        iam_config = default_user_config.setdefault("iam", {})
        _originals[("moto.core.config", "default_user_config", "iam")] = dict(iam_config)
        iam_config["load_aws_managed_policies"] = True


def uninstall() -> None:
    """Put moto back as it was."""
    from moto.core.config import default_user_config

    with _lock:
        for (module, cls, attribute), original in _originals.items():
            if module == "moto.core.config":
                default_user_config["iam"] = original
                continue
            setattr(_resolve(module, cls), attribute, original)
        _originals.clear()


def installed() -> bool:
    return bool(_originals)


def reset_state() -> None:
    """Forget every account's resources (what moto's own /moto-api/reset does)."""
    from moto.core.base_backend import BackendDict
    from moto.core.model_instances import reset_model_data

    BackendDict.reset()
    reset_model_data()


def route_invoke(handler: InvokeHandler) -> Callable[[], None]:
    """Send moto's Lambda ``Invoke`` (after the engine authorized it) to ``handler``.

    Returns the function that puts moto's own ``invoke`` back.
    """
    check()
    module, cls, attribute = _INVOKE
    owner = _resolve(module, cls)
    original = owner.__dict__[attribute]

    def invoke(fn: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        return handler(fn.function_name, fn.account_id, body, request_headers, response_headers)

    setattr(owner, attribute, invoke)
    return lambda: setattr(owner, attribute, original)
