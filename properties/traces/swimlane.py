"""A per-party swimlane of a trace: one lane per client and aggregator, one row per step.

`lanes(trace)` turns the replayed worlds into rows (step, acting party, what it did, the message's
sender and receiver, the rule that refused it if any); `render_rich` prints them as a table whose
columns are the parties, and `render_svg` writes a hand-made SVG: lanes as vertical lines, each
delivery an arrow from sender to receiver, refusals in red, Byzantine lanes shaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from asfl.properties.traces.itf import Trace
from asfl.spec.messages import Party
from asfl.spec.world import Crash, Deliver, Inject, TrainDone, World


@dataclass(frozen=True)
class Row:
    step: int
    kind: str  # deliver / train / crash / inject
    src: str
    dst: str
    label: str
    refused: str


def party_names(world: World) -> list[str]:
    p = world.params
    return [f"a{j}" for j in range(p.n_a)] + [f"c{c}" for c in range(p.n_c)]


def _describe(msg: object) -> str:
    name = type(msg).__name__
    r = getattr(msg, "r", None)
    members = getattr(msg, "members", None)
    parts = [name]
    if r is not None:
        parts.append(f"r={r}")
    if hasattr(msg, "c") and name == "Contrib":
        parts.append(f"c={msg.c}")  # type: ignore[attr-defined]
    if getattr(msg, "i", None) is not None:
        parts.append(f"i={msg.i}")  # type: ignore[attr-defined]
    if members is not None:
        parts.append("S={" + ",".join(map(str, sorted(members))) + "}")
    return " ".join(parts)


def lanes(trace: Trace, worlds: list[World] | None = None) -> list[Row]:
    worlds = worlds if worlds is not None else trace.worlds()
    rows: list[Row] = []
    for k, (before, after) in enumerate(zip(worlds, worlds[1:], strict=False), start=1):
        event = after.last.event if after.last else None
        refused = after.last.refused_rule or "" if after.last else ""
        if isinstance(event, Deliver):
            env = next(e for e in before.in_flight if e.id == event.msg_id)
            rows.append(Row(k, "deliver", str(env.src), str(env.dst), _describe(env.msg), refused))
        elif isinstance(event, TrainDone):
            rows.append(Row(k, "train", f"c{event.client}", f"c{event.client}", "training done", refused))
        elif isinstance(event, Crash):
            rows.append(Row(k, "crash", f"c{event.client}", f"c{event.client}", "CRASH", refused))
        elif isinstance(event, Inject):
            rows.append(
                Row(k, "inject", f"a{event.sender}", str(event.dst), "sends " + _describe(event.msg), refused)
            )
    return rows


def render_rich(trace: Trace, rows: list[Row], names: list[str], byzantine: frozenset[int], console) -> None:
    from rich.table import Table

    table = Table(
        title=f"{trace.property or 'trace'} on rules={trace.rules}: {trace.description}", show_lines=False
    )
    table.add_column("#", justify="right", min_width=3, no_wrap=True)
    for n in names:
        style = "red" if n.startswith("a") and int(n[1:]) in byzantine else ""
        table.add_column(n + ("*" if style else ""), style=style, min_width=6, overflow="fold")
    for row in rows:
        cells = ["" for _ in names]
        text = row.label + (f" [REFUSED {row.refused}]" if row.refused else "")
        if row.kind == "deliver":
            cells[names.index(row.dst)] = f"<- {row.src}: {text}"
        elif row.kind == "inject":
            cells[names.index(row.src)] = f"-> {row.dst}: {text}"
        else:
            cells[names.index(row.src)] = text
        table.add_row(str(row.step), *cells)
    console.print(table)


def render_svg(trace: Trace, rows: list[Row], names: list[str], byzantine: frozenset[int]) -> str:
    """A swimlane diagram: one vertical lane per party, one arrow per delivery or injection."""
    lane_w, row_h, top, left = 90, 22, 70, 50
    width = left + lane_w * len(names) + 40
    height = top + row_h * (len(rows) + 1) + 20
    x = {n: left + lane_w * k + lane_w // 2 for k, n in enumerate(names)}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" '
        'font-size="10">',
        '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="7" refY="3" orient="auto">'
        '<path d="M0,0 L7,3 L0,6 z" fill="#333"/></marker></defs>',
        f'<text x="{left}" y="18" font-size="12">{escape(trace.property or "trace")} '
        f"rules={escape(trace.rules)}: {escape(trace.description[:150])}</text>",
    ]
    for n in names:
        byz = n.startswith("a") and int(n[1:]) in byzantine
        if byz:
            out.append(
                f'<rect x="{x[n] - lane_w // 2 + 4}" y="{top - 25}" width="{lane_w - 8}" '
                f'height="{height - top + 5}" fill="#fde0e0"/>'
            )
        star = "*" if byz else ""
        out.append(f'<text x="{x[n]}" y="{top - 10}" text-anchor="middle" font-size="12">{n}{star}</text>')
        out.append(f'<line x1="{x[n]}" y1="{top}" x2="{x[n]}" y2="{height - 10}" stroke="#bbb"/>')
    for k, row in enumerate(rows):
        y = top + row_h * (k + 1)
        color = "#c00" if row.refused else ("#a0a" if row.kind == "inject" else "#333")
        label = escape(row.label + (f" REFUSED: {row.refused}" if row.refused else ""))
        out.append(f'<text x="4" y="{y + 3}" fill="#888">{row.step}</text>')
        if row.src == row.dst or row.dst not in x:
            out.append(f'<circle cx="{x[row.src]}" cy="{y}" r="4" fill="{color}"/>')
            out.append(f'<text x="{x[row.src] + 8}" y="{y + 3}" fill="{color}">{label}</text>')
        else:
            out.append(
                f'<line x1="{x[row.src]}" y1="{y - row_h // 2}" x2="{x[row.dst]}" y2="{y}" stroke="{color}" '
                'marker-end="url(#arrow)"/>'
            )
            mid = (x[row.src] + x[row.dst]) // 2
            out.append(f'<text x="{mid}" y="{y - 4}" text-anchor="middle" fill="{color}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out)


__all__ = ["Party", "Row", "lanes", "party_names", "render_rich", "render_svg"]
