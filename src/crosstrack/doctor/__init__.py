"""Trust-chain diagnosis: collect a deployment's state (live AWS, the local AWS, or a
Terraform plan) into one model, evaluate the requests the reporter and its schedule really
make with crosstrack.iam, and name the broken link (docs/doctor.md)."""

from __future__ import annotations

from crosstrack.doctor.diagnosis import diagnose, ok
from crosstrack.doctor.model import DoctorError, DoctorInputError, Row, State, Verdict

__all__ = ["DoctorError", "DoctorInputError", "Row", "State", "Verdict", "diagnose", "ok"]
