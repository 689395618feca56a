"""Service-specific rules, behind one small registry keyed by the action's service prefix.

What differs by service: what its resource-based policy is called, whether that policy must
allow the request explicitly even within one account, and where the resource's account is.

* STS: a role's trust policy must allow ``sts:AssumeRole*`` explicitly, and ``sts:TagSession``
  when session tags are passed (id_roles_compare-resource-policies.html;
  id_session-tags.html#id_session-tags_permissions-required).
* KMS: the key policy must allow, or delegate to the account so IAM policies can
  (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
* S3: the bucket policy is optional; a bucket ARN carries no account, so the request must say
  which account owns the bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from crosstrack.iam.model import PolicyKind

_TRUST_ACTIONS = frozenset(
    {
        "sts:assumerole",
        "sts:assumerolewithsaml",
        "sts:assumerolewithwebidentity",
        "sts:tagsession",
        "sts:setsourceidentity",
        "sts:setcontext",
    }
)


@dataclass(frozen=True, slots=True)
class ServiceRules:
    """How one service's resource-based policy takes part in a decision."""

    prefix: str
    policy_name: str  # "trust policy", "bucket policy", "key policy"
    explicit_actions: frozenset[str] | None  # lower-cased; None = every action of the service
    explicit_required: bool
    # Only requests on resources containing this marker need the explicit allow (KMS: a key,
    # not kms:CreateKey or kms:List* on "*", which IAM policies alone govern:
    # https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html).
    explicit_resource_marker: str | None = None

    def requires_resource_allow(self, action: str) -> bool:
        """True when the resource policy must allow ``action`` even within one account."""
        if not self.explicit_required:
            return False
        return self.explicit_actions is None or action.lower() in self.explicit_actions

    def requires_resource_allow_on(self, resource: str) -> bool:
        """Whether the explicit-allow rule applies to ``resource`` (given it applies to the
        action)."""
        return self.explicit_resource_marker is None or self.explicit_resource_marker in resource

    def policy_kind(self, action: str) -> PolicyKind:
        """The kind of document that governs ``action`` (trust policies have no Resource)."""
        if self.prefix == "sts" and action.lower() in _TRUST_ACTIONS:
            return PolicyKind.TRUST
        return PolicyKind.RESOURCE

    def describe(self, resource: str) -> str:
        """How a sentence names this resource's policy."""
        if self.prefix == "sts":
            return f"the trust policy of {resource}"
        if self.prefix == "s3":
            # arn:aws:s3:::bucket/key -> bucket (partition: no list built, once per request)
            _arn, found, path = resource.partition(":::")
            bucket = (path if found else resource).partition("/")[0]
            return f"the bucket policy of {bucket}"
        return f"the {self.policy_name} of {resource}"


_GENERIC = ServiceRules("*", "resource-based policy", None, explicit_required=False)

REGISTRY: dict[str, ServiceRules] = {
    "sts": ServiceRules("sts", "trust policy", _TRUST_ACTIONS, explicit_required=True),
    "kms": ServiceRules(
        "kms", "key policy", None, explicit_required=True, explicit_resource_marker=":key/"
    ),
    "s3": ServiceRules("s3", "bucket policy", None, explicit_required=False),
}


@lru_cache(maxsize=1024)
def policy_kind_for(action: str) -> PolicyKind:
    """The kind of resource policy that governs ``action`` (cached: a small vocabulary)."""
    return rules_for(action).policy_kind(action)


def rules_for(action: str) -> ServiceRules:
    """The rules for ``action``'s service (generic ones for services without special rules)."""
    prefix = action.split(":", 1)[0].lower()
    return REGISTRY.get(prefix, _GENERIC)
