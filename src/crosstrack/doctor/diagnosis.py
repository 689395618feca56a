"""All rows for one state: the chain (links 0-5) in order, then the warnings."""

from __future__ import annotations

from crosstrack.doctor import checks, hygiene, storage
from crosstrack.doctor.model import Row, State, Verdict


def diagnose(state: State) -> list[Row]:
    """Every row, chain order first; a check that cannot run is ``unknown``, never raised."""
    rows = [
        *checks.schedule_rows(state),
        *checks.logs_rows(state),
        *checks.lambda_rows(state),
        *checks.assume_rows(state),
        *storage.object_rows(state),
    ]
    rows += hygiene.trust_warnings(state)
    rows += hygiene.wildcard_warnings(state)
    rows += hygiene.scope_warnings(state)
    rows += hygiene.deploy_role_warnings(state)
    rows.sort(key=lambda r: 99 if r.link is None else r.link)
    return rows


def ok(rows: list[Row]) -> bool:
    """Warnings pass; a failure or an unknown does not."""
    return all(r.verdict in (Verdict.PASS, Verdict.WARN) for r in rows)
