"""The one error base of crosstrack: every domain error derives from :class:`CrosstrackError`.

Standard library only: the Lambda zip carries this module beside ``crosstrack.reporter``.
The CLI catches the base once, in ``crosstrack.cli.main``, prints one ``Error: <message>``
line on stderr and exits with the error's :attr:`~CrosstrackError.exit_code` (README, "Exit
codes").
"""

from __future__ import annotations

# Exit codes (Click's convention for 2). README's exit-code table lists the same.
EXIT_FAILURE = 1  # a check failed, or something the user can act on went wrong
EXIT_USAGE = 2  # bad arguments or unreadable input (a file that is not what it should be)


class CrosstrackError(Exception):
    """Base of every error crosstrack raises on purpose; the message says what to do."""

    exit_code: int = EXIT_FAILURE


class InputError(CrosstrackError):
    """Input the user gave (a flag, a file, a pasted text) cannot be used as it is."""

    exit_code = EXIT_USAGE
