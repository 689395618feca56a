"""crosstrack: secure cross-account access on AWS, done right.

This module deliberately imports nothing: the Lambda zip ships ``crosstrack.reporter``
and its dependencies only, and importing the package must not pull in the CLI or emulator.
"""

__version__ = "0.1.0"
