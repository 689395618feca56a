from __future__ import annotations

from typing import Any

from crosstrack.doctor.model import Row, State


def probe_rows(state: State, a: Any, b: Any, rows: list[Row]) -> list[Row]:
    return []
