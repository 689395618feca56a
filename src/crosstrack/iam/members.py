"""Enum members named on the evaluator's hot path, as module constants.

On Python 3.11 reading a member off its class (``Layer.SCP``) goes through the enum machinery
and costs ~0.1 us; a module constant imported by name is a plain global read. Defined once
here for the modules that check, combine and explain layers.
"""

from __future__ import annotations

from crosstrack.iam.model import Effect, Layer, Reason, Verdict
from crosstrack.iam.principals import Grant, PrincipalKind

# layers
IDENTITY = Layer.IDENTITY
PERMISSION_BOUNDARY = Layer.PERMISSION_BOUNDARY
RCP = Layer.RCP
RESOURCE_POLICY = Layer.RESOURCE_POLICY
SCP = Layer.SCP
SESSION_POLICY = Layer.SESSION_POLICY
# principal kinds, and how a resource policy named the caller
ROOT = PrincipalKind.ROOT
SERVICE = PrincipalKind.SERVICE
GRANT_ACCOUNT = Grant.ACCOUNT
GRANT_ANYONE = Grant.ANYONE
GRANT_USER = Grant.USER
# effects and verdicts
ALLOW = Effect.ALLOW
DENY = Effect.DENY
ALLOWED = Verdict.ALLOWED
EXPLICIT_DENY = Verdict.EXPLICIT_DENY
IMPLICIT_DENY = Verdict.IMPLICIT_DENY
# reasons (the decision's) and notes (rules that shaped it)
ALLOWED_BY_IDENTITY = Reason.ALLOWED_BY_IDENTITY
ALLOWED_BY_RESOURCE_POLICY = Reason.ALLOWED_BY_RESOURCE_POLICY
BOUNDARY_LIMITS_ROLE_GRANT = Reason.BOUNDARY_LIMITS_ROLE_GRANT
CROSS_ACCOUNT = Reason.CROSS_ACCOUNT
DENIED_EXPLICITLY = Reason.EXPLICIT_DENY
NO_ALLOW = Reason.NO_ALLOW
NOT_PRINCIPAL_BOUNDARY = Reason.NOT_PRINCIPAL_BOUNDARY
RESOURCE_POLICY_REQUIRED = Reason.RESOURCE_POLICY_REQUIRED
VARIABLE_NO_VALUE = Reason.VARIABLE_NO_VALUE
