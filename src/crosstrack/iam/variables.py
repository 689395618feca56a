"""Policy variables: ``${aws:username}``, ``${aws:PrincipalTag/team, 'none'}``, ``${*}``.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html

* Only policies with ``"Version": "2012-10-17"`` have variables; in older versions the text
  is literal (the caller simply does not parse templates then).
* Variables are allowed in ``Resource``/``NotResource`` and in the values of string and ARN
  condition operators; elsewhere ``${...}`` is literal.
* A variable whose key is absent from the request context, with no default, has no value:
  :meth:`Template.resolve` raises :class:`UnresolvedVariable`, and the caller makes the one
  Resource entry or condition value holding it match nothing ("#policy-vars-no-value").
* ``${*}``, ``${?}`` and ``${$}`` stand for a literal ``*``, ``?`` and ``$``.
* A substituted value is data, never a pattern: a ``*`` in a user name matches only ``*``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from crosstrack.iam.errors import PolicyError, show
from crosstrack.iam.wildcards import LITERAL_QMARK, LITERAL_STAR

_VAR = re.compile(r"\$\{([^}]*)\}")
_WITH_DEFAULT = re.compile(r"^\s*([^,'\s]+)\s*,\s*'([^']*)'\s*$")
_KEY = re.compile(r"^[^,'\s]+$")
_ESCAPES = {"*": LITERAL_STAR, "?": LITERAL_QMARK, "$": "$"}


class UnresolvedVariable(Exception):
    """A variable's key is missing from the request context and has no default."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass(frozen=True, slots=True)
class Variable:
    """One ``${key}`` or ``${key, 'default'}`` occurrence."""

    name: str  # as written, for explanations
    key: str  # lower-cased: context keys are case-insensitive
    default: str | None


@dataclass(frozen=True, slots=True)
class Template:
    """A string with variables: literal text and :class:`Variable` parts, in order."""

    parts: tuple[str | Variable, ...]

    def resolve(self, context: Mapping[str, tuple[str, ...]]) -> str:
        """The text with every variable replaced; literal ``*``/``?`` stay marked.

        Raises :class:`UnresolvedVariable` when a key is missing and has no default.
        """
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            values = context.get(part.key)
            # A multivalued key cannot be a variable
            # (reference_policies_condition-single-vs-multi-valued-context-keys.html).
            if values is not None and len(values) == 1:
                value = values[0]
            elif part.default is not None:
                value = part.default
            else:
                raise UnresolvedVariable(part.name)
            out.append(value.replace("*", LITERAL_STAR).replace("?", LITERAL_QMARK))
        return "".join(out)

    def missing(self, context: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
        """The names of the variables that have no value in ``context`` (for explanations)."""
        return tuple(
            part.name
            for part in self.parts
            if isinstance(part, Variable)
            and part.default is None
            and len(context.get(part.key) or ()) != 1
        )


def parse_template(text: str, path: str) -> str | Template:
    """``text`` itself if it holds no variable (escapes turned into markers), else a Template.

    Equal texts give the same Template object, so the evaluator can remember per request what
    a template resolved to, by identity, across every statement that uses it.
    """
    if "${" not in text:
        return text
    try:
        return _template(text)
    except _MalformedVariable as exc:
        raise PolicyError(path, f"malformed policy variable {show(exc.text)}") from None


class _MalformedVariable(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@lru_cache(maxsize=4096)
def _template(text: str) -> str | Template:
    parts: list[str | Variable] = []
    pos = 0
    for m in _VAR.finditer(text):
        if m.start() > pos:
            parts.append(text[pos : m.start()])
        body = m.group(1)
        if body in _ESCAPES:
            parts.append(_ESCAPES[body])
        else:
            with_default = _WITH_DEFAULT.match(body)
            if with_default:
                name, default = with_default.group(1), with_default.group(2)
            elif _KEY.match(body.strip()):
                name, default = body.strip(), None
            else:
                raise _MalformedVariable(m.group(0))
            parts.append(Variable(name=name, key=name.lower(), default=default))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    if not any(isinstance(p, Variable) for p in parts):
        return "".join(p for p in parts if isinstance(p, str))
    return Template(tuple(parts))
