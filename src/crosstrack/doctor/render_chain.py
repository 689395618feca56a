"""Mermaid text and SVG of any chain: one box per account, the principal, each --via role and
the resource inside their accounts' boxes, one arrow per hop (and the final request) coloured
by the worst verdict of that hop's rows (render.link_verdicts)."""

from __future__ import annotations

from collections.abc import Sequence

from crosstrack.doctor.model import Row, Verdict
from crosstrack.doctor.render import COLOURS, escape, link_verdicts, mermaid_text


def _account(node: str, fallback: str | None) -> str:
    parts = node.split(":")
    if len(parts) > 5 and parts[4]:
        return parts[4]
    return fallback or ("AWS service" if node.endswith("amazonaws.com") else "unknown account")


def _groups(nodes: Sequence[str], resource_account: str | None) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        fallback = resource_account if i == len(nodes) - 1 else None
        groups.setdefault(_account(node, fallback), []).append(i)
    return groups


def _edges(
    rows: Sequence[Row], nodes: Sequence[str], final: str | None
) -> list[tuple[int, str, Verdict]]:
    verdicts = link_verdicts(rows)
    edges = []
    for i in range(1, len(nodes)):
        last = final is not None and i == len(nodes) - 1
        label = final if last and final else "sts:AssumeRole"
        edges.append((i, f"{i} {label}", verdicts.get(i, Verdict.UNKNOWN)))
    return edges


def chain_mermaid(rows: Sequence[Row], nodes: Sequence[str], final: str | None,
                  resource_account: str | None = None) -> str:  # fmt: skip
    lines = ["flowchart LR"]
    for g, (account, members) in enumerate(_groups(nodes, resource_account).items()):
        lines.append(f'  subgraph acct{g}["account {mermaid_text(account)}"]')
        lines += [f'    n{i}["{mermaid_text(nodes[i])}"]' for i in members]
        lines.append("  end")
    for k, (i, label, v) in enumerate(_edges(rows, nodes, final)):
        lines.append(f'  n{i - 1} -->|"{v.symbol} {mermaid_text(label)}"| n{i}')
        lines.append(f"  linkStyle {k} stroke:{COLOURS[v]},stroke-width:3px")
    return "\n".join(lines) + "\n"


_W, _H, _GAP = 260, 60, 40


def chain_svg(rows: Sequence[Row], nodes: Sequence[str], final: str | None,
              resource_account: str | None = None) -> str:  # fmt: skip
    width = 40 + len(nodes) * (_W + _GAP)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="200" '
             'font-family="sans-serif" font-size="11">']  # fmt: skip
    x_of = {i: 30 + i * (_W + _GAP) for i in range(len(nodes))}
    for account, members in _groups(nodes, resource_account).items():
        # Members of one account are not always adjacent (A -> B -> A): one box per run.
        runs: list[list[int]] = []
        for i in members:
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        for run in runs:
            x0, x1 = x_of[run[0]] - 15, x_of[run[-1]] + _W + 15
            parts.append(f'<rect x="{x0}" y="15" width="{x1 - x0}" height="170" rx="10" '
                         'fill="#f6f8fa" stroke="#57606a"/>')  # fmt: skip
            parts.append(f'<text x="{x0 + 10}" y="35" font-weight="bold">account '
                         f"{escape(account)}</text>")  # fmt: skip
    for i, node in enumerate(nodes):
        x = x_of[i]
        parts.append(f'<rect x="{x}" y="70" width="{_W}" height="{_H}" rx="6" fill="#ffffff" '
                     'stroke="#24292f"/>')  # fmt: skip
        for k, line in enumerate([node[j : j + 40] for j in range(0, len(node), 40)][:3]):
            parts.append(f'<text x="{x + 6}" y="{88 + 14 * k}">{escape(line)}</text>')
    for i, label, v in _edges(rows, nodes, final):
        x1, x2 = x_of[i - 1] + _W, x_of[i]
        parts.append(f'<line x1="{x1}" y1="100" x2="{x2}" y2="100" stroke="{COLOURS[v]}" '
                     f'stroke-width="3"><title>{escape(label)}: {v.value}</title>'
                     "</line>")  # fmt: skip
        parts.append(f'<text x="{x1 + 2}" y="160" fill="{COLOURS[v]}">'
                     f"{escape(v.symbol + ' ' + label)}</text>")  # fmt: skip
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
