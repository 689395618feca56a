"""The one error the engine raises: a policy or request it cannot evaluate, named by JSON path."""

from __future__ import annotations

import reprlib

from crosstrack.errors import InputError


class PolicyError(InputError, ValueError):
    """An invalid policy document or request; ``path`` names where (``$.Statement[0].Effect``).

    The engine never guesses around bad input: a malformed policy is an error, never a silent
    allow or a silent deny.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem

    def under(self, prefix: str) -> PolicyError:
        """The same error with its path re-rooted under ``prefix`` (``identity_policies[0]``)."""
        rest = self.path[1:] if self.path.startswith("$") else "." + self.path
        return PolicyError(prefix + rest, self.problem)


_SHOW = reprlib.Repr()
_SHOW.maxstring = 120
_SHOW.maxother = 120
_SHOW.maxlevel = 3
_SHOW.maxlist = _SHOW.maxtuple = _SHOW.maxdict = 6


def show(value: object) -> str:
    """``repr(value)`` for an error message, bounded: hostile input (a 1 MB string, a list
    nested 100,000 deep) must give a short message, never a RecursionError or a huge line."""
    return _SHOW.repr(value)
