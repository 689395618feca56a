"""The rows as JSON, a Rich table, Mermaid text or an SVG drawing of the chain.

The drawing puts each account in a box with its principals and resources inside, and one
arrow per link (0-5) coloured by the worst verdict among that link's rows. The SVG is plain
text written here (no dependency); every label is XML-escaped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from xml.sax.saxutils import escape as _xml_escape

from crosstrack.doctor.diagnosis import ok
from crosstrack.doctor.model import Row, Verdict, printable

_ORDER = (Verdict.FAIL, Verdict.UNKNOWN, Verdict.WARN, Verdict.PASS)
COLOURS = {
    Verdict.PASS: "#1a7f37",
    Verdict.FAIL: "#cf222e",
    Verdict.WARN: "#bf8700",
    Verdict.UNKNOWN: "#6e7781",
}
STYLES = {Verdict.PASS: "green", Verdict.FAIL: "bold red", Verdict.WARN: "yellow",
          Verdict.UNKNOWN: "magenta"}  # fmt: skip


def escape(text: str) -> str:
    """Text for an SVG element or attribute: printable (XML 1.0 forbids control characters),
    then XML-escaped (a name holding ``<script>`` or ``&`` is drawn, never parsed)."""
    return _xml_escape(printable(text), {'"': "&quot;"})


def mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: one line, no quote, no HTML. Mermaid's entity codes
    (``#quot;``, ``#35;`` -- https://mermaid.js.org/syntax/flowchart.html#entity-codes-to-escape-characters)
    show the characters as they are; ``#`` first, since it starts them."""
    text = printable(text)
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"),
                       ("&", "#amp;"), ("|", "#124;"), ("`", "#96;")):  # fmt: skip
        text = text.replace(char, code)
    return text


def as_json(rows: Sequence[Row]) -> str:
    return json.dumps({"ok": ok(list(rows)), "rows": [r.as_dict() for r in rows]}, indent=2)


def table(rows: Sequence[Row], title: str) -> object:
    """A Rich table (returned as ``object`` so importing this module does not need Rich)."""
    from rich.markup import escape as markup
    from rich.table import Table

    def cell(text: str) -> str:  # names and ARNs are data: never Rich markup, never escapes
        return "\n".join(markup(printable(line)) for line in text.split("\n"))

    out = Table(title=cell(title), show_lines=True)
    for column in ("", "link", "check", "request", "statement / evidence", "fix"):
        out.add_column(column, overflow="fold")
    for r in rows:
        statement = f"{r.statement}\n" if r.statement is not None else ""
        out.add_row(
            f"[{STYLES[r.verdict]}]{r.verdict.symbol}[/]",
            "" if r.link is None else str(r.link),
            cell(r.id),
            "\n".join(cell(t) for t in (r.principal, r.action, r.resource)),
            cell(statement + r.evidence),
            cell(r.fix),
        )
    return out


def link_verdicts(rows: Sequence[Row]) -> dict[int, Verdict]:
    """The worst verdict of each link's rows."""
    worst: dict[int, Verdict] = {}
    for r in rows:
        if r.link is None:
            continue
        current = worst.get(r.link, Verdict.PASS)
        worst[r.link] = min(current, r.verdict, key=_ORDER.index)
    return worst


# (link, from, to, label): the nodes of design.md's chain
_EDGES = (
    (0, "schedule", "function", "0 invoke + logs"),
    (1, "lambda", "role_a", "1 assume role A"),
    (2, "role_a", "sts", "2 sts:AssumeRole"),
    (3, "sts", "role_b", "3 trust"),
    (4, "role_b", "object", "4 Get/PutObject"),
    (5, "policy", "object", "5 bucket/key policy"),
)


def mermaid(rows: Sequence[Row], names: dict[str, str]) -> str:
    verdicts = link_verdicts(rows)
    account_a, account_b = (mermaid_text(names.get(k, "")) for k in ("account_a", "account_b"))
    lines = ["flowchart LR", f'  subgraph A["account A {account_a}"]']
    for node in ("schedule", "lambda", "function", "role_a"):
        lines.append(f'    {node}["{mermaid_text(_label(names, node))}"]')
    lines += ["  end", f'  subgraph B["account B {account_b}"]']
    for node in ("sts", "role_b", "object", "policy"):
        lines.append(f'    {node}["{mermaid_text(_label(names, node))}"]')
    lines.append("  end")
    for i, (link, src, dst, label) in enumerate(_EDGES):
        v = verdicts.get(link, Verdict.UNKNOWN)
        lines.append(f'  {src} -->|"{v.symbol} {label}"| {dst}')
        lines.append(f"  linkStyle {i} stroke:{COLOURS[v]},stroke-width:3px")
    return "\n".join(lines) + "\n"


def _label(names: dict[str, str], node: str) -> str:
    default = {
        "schedule": "EventBridge schedule",
        "lambda": "lambda.amazonaws.com",
        "function": "Lambda function",
        "role_a": "role A",
        "sts": "STS AssumeRole",
        "role_b": "role B",
        "object": "log object",
        "policy": "bucket + key policy",
    }[node]
    return names.get(node, default)


_POS = {  # node: (x, y) of the box's top-left corner
    "schedule": (30, 60),
    "function": (30, 170),
    "lambda": (30, 280),
    "role_a": (260, 170),
    "sts": (560, 60),
    "role_b": (560, 170),
    "object": (560, 280),
    "policy": (790, 280),
}
_W, _H = 200, 60


def svg(rows: Sequence[Row], names: dict[str, str]) -> str:
    verdicts = link_verdicts(rows)
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="1030" height="400" '
        'font-family="sans-serif" font-size="12">',
        "<defs>",
    ]
    for v, colour in COLOURS.items():
        parts.append(
            f'<marker id="arrow-{v.value}" markerWidth="10" markerHeight="8" refX="9" refY="4" '
            f'orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="{colour}"/></marker>'
        )
    parts.append("</defs>")
    for x, width, title in ((15, 480, "account A"), (545, 470, "account B")):
        account = names.get("account_a" if title.endswith("A") else "account_b", "")
        parts.append(f'<rect x="{x}" y="20" width="{width}" height="370" rx="10" fill="#f6f8fa" '
                     'stroke="#57606a"/>')  # fmt: skip
        parts.append(f'<text x="{x + 10}" y="40" font-weight="bold">'
                     f"{escape(title)} {escape(account)}</text>")  # fmt: skip
    for node, (x, y) in _POS.items():
        parts.append(f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="6" fill="#ffffff" '
                     'stroke="#24292f"/>')  # fmt: skip
        label = _label(names, node)
        for n, line in enumerate([label[i : i + 30] for i in range(0, len(label), 30)][:3]):
            parts.append(f'<text x="{x + 8}" y="{y + 20 + 14 * n}">{escape(line)}</text>')
    for link, src, dst, label in _EDGES:
        v = verdicts.get(link, Verdict.UNKNOWN)
        (x1, y1), (x2, y2) = _anchor(src, dst)
        parts.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{COLOURS[v]}" '
            f'stroke-width="3" marker-end="url(#arrow-{v.value})"><title>link {link}: '
            f"{v.value}</title></line>"
        )
        parts.append(f'<text x="{(x1 + x2) / 2 + 4:.0f}" y="{(y1 + y2) / 2 - 4:.0f}" '
                     f'fill="{COLOURS[v]}">{escape(v.symbol + " " + label)}</text>')  # fmt: skip
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _anchor(src: str, dst: str) -> tuple[tuple[int, int], tuple[int, int]]:
    (sx, sy), (dx, dy) = _POS[src], _POS[dst]
    scx, scy, dcx, dcy = sx + _W // 2, sy + _H // 2, dx + _W // 2, dy + _H // 2
    if abs(scx - dcx) > abs(scy - dcy):  # mostly horizontal: side to side
        return (sx + _W if dcx > scx else sx, scy), (dx if dcx > scx else dx + _W, dcy)
    return (scx, sy + _H if dcy > scy else sy), (dcx, dy if dcy > scy else dy + _H)
