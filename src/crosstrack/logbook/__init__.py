"""Read, follow, export and draw the log the reporter writes (``crosstrack log``/``map``).

Imports point one way: ``logbook -> reporter`` (the format and layout code). The map
(:mod:`crosstrack.logbook.worldmap`) needs matplotlib, the ``map`` extra, and is imported
only by ``crosstrack map`` and the demo's map hook; nothing here imports it eagerly.
"""

from __future__ import annotations

from crosstrack.logbook.errors import (
    LogAccessError,
    LogbookError,
    LogbookInputError,
    LogNotFoundError,
    MapExtraMissingError,
)
from crosstrack.logbook.records import ParseResult, Problem, Record, parse_log

__all__ = [
    "LogAccessError",
    "LogNotFoundError",
    "LogbookError",
    "LogbookInputError",
    "MapExtraMissingError",
    "ParseResult",
    "Problem",
    "Record",
    "parse_log",
]
