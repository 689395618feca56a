"""Enum members named on the evaluator's hot path, as module constants.

On Python 3.11 reading a member off its class (``Layer.SCP``) goes through the enum machinery
and costs ~0.1 us; a module constant imported by name is a plain global read. Defined once
here for the modules that combine and evaluate layers.
"""

from __future__ import annotations

from crosstrack.iam.model import Layer
from crosstrack.iam.principals import PrincipalKind

IDENTITY = Layer.IDENTITY
PERMISSION_BOUNDARY = Layer.PERMISSION_BOUNDARY
RCP = Layer.RCP
RESOURCE_POLICY = Layer.RESOURCE_POLICY
SCP = Layer.SCP
SESSION_POLICY = Layer.SESSION_POLICY
ROOT = PrincipalKind.ROOT
SERVICE = PrincipalKind.SERVICE
