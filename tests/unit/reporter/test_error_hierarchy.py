"""Every error class of the Lambda part and of packaging is a CrosstrackError (issue 10).

The CLI catches ``CrosstrackError`` once, in ``main()``, and prints one ``Error:`` line with
the class's exit code; a domain error outside that hierarchy would end in a traceback.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from crosstrack.errors import EXIT_FAILURE, EXIT_USAGE, CrosstrackError

PACKAGES = ("crosstrack.reporter", "crosstrack.packaging")


def exception_classes(package_name: str) -> dict[str, type[BaseException]]:
    """Every exception class defined at module level in ``package_name``'s modules."""
    package = importlib.import_module(package_name)
    found: dict[str, type[BaseException]] = {}
    names = [package_name]
    names += [info.name for info in pkgutil.walk_packages(package.__path__, package_name + ".")]
    for name in names:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and issubclass(cls, BaseException):
                found[f"{name}.{cls.__qualname__}"] = cls
    return found


@pytest.mark.parametrize("package_name", PACKAGES)
def test_every_exception_class_derives_from_crosstrack_error(package_name: str) -> None:
    classes = exception_classes(package_name)
    outside = sorted(name for name, cls in classes.items() if not issubclass(cls, CrosstrackError))
    assert outside == []
    assert all(cls.exit_code in (EXIT_FAILURE, EXIT_USAGE) for cls in classes.values())


def test_the_walk_finds_the_errors_of_every_module() -> None:
    # The walk above must see errors defined outside errors.py, or it proves nothing.
    found = set(exception_classes("crosstrack.reporter")) | set(
        exception_classes("crosstrack.packaging")
    )
    assert {
        "crosstrack.reporter.fetch.FetchError",
        "crosstrack.reporter.orbit.TleError",
        "crosstrack.reporter.orbit.PropagationError",
        "crosstrack.reporter.positions.SourceFailure",
        "crosstrack.reporter.positions._Invalid",
        "crosstrack.reporter.errors.LogConflictError",
        "crosstrack.packaging.errors.PackagingError",
    } <= found


def test_errors_keep_the_builtin_bases_callers_catch() -> None:
    # The TLE cache reader treats an invalid cached TLE as one of the ValueErrors of a
    # damaged file; joining the hierarchy must not change that.
    from crosstrack.reporter.orbit import PropagationError, TleError, parse_tle

    assert issubclass(TleError, ValueError)
    assert issubclass(PropagationError, RuntimeError)
    with pytest.raises(ValueError, match="expected 69"):
        parse_tle("1 25544U\n2 25544")
