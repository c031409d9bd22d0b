"""`hotelseed report`: one self-contained HTML file that shows the dataset, for people.

Everything is read back from the database with aggregate queries (memory does not grow with the data), drawn
with Matplotlib when the report is written and embedded as inline SVG, so the file opens offline, anywhere, with
no script and nothing to fetch. Sections: rows per table, every invariant check with its result, occupancy per
property and month (a heat map), bookings by status per arrival month, lead time and length of stay (against the
published reference where the profile is calibrated to it), ADR by month, the tier mix, the hub's thread mix,
and staff workload (threads per assignee, first-response times).
"""

from __future__ import annotations

import datetime as dt
import html
import io
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hotelseed import __version__
from hotelseed.core.checks import Report, cents, epoch, epoch_day, fetch

PALETTE = ["#2f6690", "#d1495b", "#edae49", "#66a182", "#8e6c8a", "#00798c", "#f26419", "#6c757d", "#30638e",
           "#a8c256"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")  # no display: draw to memory
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                         "svg.fonttype": "none", "figure.dpi": 96})
    return plt


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    _plt().close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]  # inline: drop the XML prologue and doctype
    start, end = text.find("<metadata>"), text.find("</metadata>")
    if start >= 0 and end > start:  # Matplotlib's RDF block (creator, date): not needed, and not reproducible
        text = text[:start] + text[end + len("</metadata>"):]
    return text


@dataclass
class Chart:
    title: str
    caption: str
    svg: str


def _month_axis(ax, months: list[str]) -> None:
    """At most ~18 month labels along x, slanted."""
    step = max(1, len(months) // 18)
    ax.set_xticks(range(0, len(months), step), months[::step], rotation=60, ha="right")


def _month(d: str, col: str) -> str:
    return f"to_char({col}, 'YYYY-MM')" if d == "postgresql" else f"strftime('%Y-%m', {col})"


def _pivot(cells) -> tuple[list, list, np.ndarray]:
    """(row, column, value) cells as a grid: the sorted row labels, the sorted column labels, NaN where no cell."""
    cells = list(cells)
    rows = sorted({r for r, _c, _v in cells})
    cols = sorted({c for _r, c, _v in cells})
    at_row = {r: i for i, r in enumerate(rows)}
    at_col = {c: j for j, c in enumerate(cols)}
    grid = np.full((len(rows), len(cols)), np.nan)
    for r, c, v in cells:
        grid[at_row[r], at_col[c]] = v
    return rows, cols, grid


def occupancy_heatmap(conn: Connection) -> Chart | None:
    d = conn.dialect.name
    rows = fetch(conn, f"SELECT p.slug, {_month(d, 'i.stay_date')}, sum(i.booked), sum(i.base_available) FROM "
                       "inventories i JOIN properties p ON p.id = i.property_id GROUP BY p.slug, 2 ORDER BY 1, 2")
    if not rows:
        return None
    props, months, grid = _pivot((slug, month, 100 * float(booked) / max(float(rooms), 1))
                                 for slug, month, booked, rooms in rows)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(props) + 1.6))
    im = ax.imshow(grid, aspect="auto", cmap="YlGnBu", vmin=0, vmax=100)
    ax.set_yticks(range(len(props)), props)
    _month_axis(ax, months)
    fig.colorbar(im, ax=ax, label="occupancy %")
    return Chart("Occupancy per property and month", "Rooms sold on the books (live stays) over rooms, per night "
                 "of the month; future months show what is booked so far.", _svg(fig))


def status_by_month(conn: Connection) -> Chart | None:
    d = conn.dialect.name
    rows = fetch(conn, f"SELECT {_month(d, 'check_in')}, CAST(status AS VARCHAR(16)), count(*) FROM bookings "
                       "GROUP BY 1, 2 ORDER BY 1")
    if not rows:
        return None
    statuses, months, grid = _pivot((status, month, n) for month, status, n in rows)
    grid = np.nan_to_num(grid)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 3.6))
    bottom = np.zeros(len(months))
    for k, i in enumerate(np.argsort(-grid.sum(axis=1), kind="stable")):  # the most frequent status first
        ax.bar(range(len(months)), grid[i], bottom=bottom, label=statuses[i], color=PALETTE[k % len(PALETTE)], width=0.9)
        bottom += grid[i]
    _month_axis(ax, months)
    ax.set_ylabel("bookings")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return Chart("Bookings by status and arrival month", "Each booking's status at as-of, by the month it arrives "
                 "(or was due to).", _svg(fig))


def _bin_label(expr: str, bins: list) -> str:
    """A SQL expression naming the bin ([label, low, high|None], bounds inclusive) that `expr` falls in."""
    return "CASE " + " ".join(f"WHEN {expr} >= {lo}" + (f" AND {expr} <= {hi}" if hi is not None else "")
                              + f" THEN '{lab}'" for lab, lo, hi in bins) + " END"


def _binned(conn: Connection, expr: str, bins: list, where: str = "") -> dict[str, dict[str, int]]:
    """Counts per property kind and bin label, the bins applied in SQL."""
    out: dict[str, dict[str, int]] = {}
    for kind, label, n in fetch(conn, f"SELECT CAST(p.kind AS VARCHAR(16)), {_bin_label(expr, bins)}, count(*) FROM "
                                      f"bookings b JOIN properties p ON p.id = b.property_id {where} GROUP BY 1, 2"):
        if label is not None:
            out.setdefault(kind, {})[label] = int(n)
    return out


def histogram_vs_reference(conn: Connection, metric: str, expr: str, title: str, caption: str,
                           calibrated: bool) -> Chart | None:
    from hotelseed.modules.bookings.realism import load_reference

    ref = load_reference()
    bins = ref["bins"][metric]
    counts = _binned(conn, expr, bins, "WHERE CAST(b.status AS VARCHAR(16)) IN ('CHECKED_IN','CHECKED_OUT','COMPLETED',"
                                       "'CANCELLED','NO_SHOW')")
    if not counts:
        return None
    labels = [b[0] for b in bins]
    plt = _plt()
    fig, axes = plt.subplots(1, len(counts), figsize=(5 * len(counts), 3.2), squeeze=False)
    for ax, (kind, c) in zip(axes[0], sorted(counts.items())):
        total = sum(c.values()) or 1
        x = np.arange(len(labels))
        ax.bar(x - 0.2, [100 * c.get(lab, 0) / total for lab in labels], width=0.4, label="generated",
               color=PALETTE[0])
        shares = ref["kinds"].get(kind, {}).get("distributions", {}).get(metric)
        if calibrated and shares:
            ax.bar(x + 0.2, [100 * shares.get(lab, 0) for lab in labels], width=0.4, label="reference (Antonio et al. 2019)",
                   color=PALETTE[2])
        ax.set_xticks(x, labels, rotation=45 if len(labels) > 8 else 0)
        ax.set_title(kind.lower(), fontsize=9)
        ax.set_ylabel("% of bookings")
        ax.legend(fontsize=7, frameon=False)
    return Chart(title, caption + (" Against the published reference for the same kind of hotel." if calibrated else
                                   " (This profile is not calibrated to the published reference.)"), _svg(fig))


def adr_by_month(conn: Connection) -> Chart | None:
    d = conn.dialect.name
    rows = fetch(conn, f"SELECT p.slug, b.currency, {_month(d, 'b.check_in')}, sum({cents('b.net_amount')}), "
                       "sum(b.nights * b.rooms) FROM bookings b JOIN properties p ON p.id = b.property_id WHERE "
                       "CAST(b.status AS VARCHAR(16)) IN ('CHECKED_IN','CHECKED_OUT','COMPLETED') GROUP BY 1, 2, 3 ORDER BY 3")
    if not rows:
        return None
    props, months, grid = _pivot(((slug, cur), month, net / 100 / max(n, 1)) for slug, cur, month, net, n in rows)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 3.4))
    for k, (slug, cur) in enumerate(props[:10]):
        ax.plot(range(len(months)), grid[k], label=f"{slug} ({cur})", color=PALETTE[k % len(PALETTE)], lw=1.4)
    _month_axis(ax, months)
    ax.set_ylabel("ADR (net per room-night)")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    more = f" The first 10 of {len(props)} properties are drawn." if len(props) > 10 else ""
    return Chart("Average daily rate by arrival month", "Net lodging revenue per room-night of stays that happened, "
                 "in each property's currency: season, weekday mix and how full the hotel was when guests booked." + more,
                 _svg(fig))


def _bars(title: str, caption: str, labels: list[str], values: list[float], ylabel: str, horizontal=False) -> Chart:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, max(2.6, 0.3 * len(labels) + 1) if horizontal else 3.2))
    if horizontal:
        ax.barh(range(len(labels)), values, color=PALETTE[0])
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlabel(ylabel)
    else:
        ax.bar(range(len(labels)), values, color=[PALETTE[k % len(PALETTE)] for k in range(len(labels))])
        ax.set_xticks(range(len(labels)), labels)
        ax.set_ylabel(ylabel)
    return Chart(title, caption, _svg(fig))


def tiers(conn: Connection) -> Chart | None:
    rows = fetch(conn, "SELECT CAST(a.tier AS VARCHAR(16)), count(*), min(t.rank) FROM loyalty_accounts a JOIN "
                       "tier_configs t ON t.tier = a.tier GROUP BY 1 ORDER BY 3")
    if not rows:
        return None
    total = sum(r[1] for r in rows)
    return _bars("Loyalty tiers", "Members per tier, each earned by the member's replayed stays (never assigned).",
                 [r[0] for r in rows], [100 * r[1] / total for r in rows], "% of members")


def thread_mix(conn: Connection) -> Chart | None:
    rows = fetch(conn, "SELECT CAST(category AS VARCHAR(16)), CAST(channel AS VARCHAR(16)), count(*) FROM threads "
                       "GROUP BY 1, 2 ORDER BY 1, 2")
    if not rows:
        return None
    cats, chans, grid = _pivot(rows)
    grid = np.nan_to_num(grid)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.8 / len(chans)
    for k, ch in enumerate(chans):
        ax.bar(np.arange(len(cats)) + k * width, grid[:, k], width=width, label=ch, color=PALETTE[k % len(PALETTE)])
    ax.set_xticks(np.arange(len(cats)) + 0.4 - width / 2, cats)
    ax.set_ylabel("threads")
    ax.legend(fontsize=7, frameon=False)
    return Chart("Conversation threads by category and channel", "The hub's mix (booking, general inquiry, support) "
                 "and the channel each thread started on.", _svg(fig))


def workload(conn: Connection) -> list[Chart]:
    d = conn.dialect.name
    rows = fetch(conn, "SELECT u.email, count(*) FROM threads t JOIN users u ON u.id = t.assigned_to GROUP BY u.email "
                       "ORDER BY 2 DESC, 1")
    charts = []
    if rows:
        top = rows[:25]
        charts.append(_bars("Staff workload: threads per assignee", "Threads assigned to each staff member by the "
                            "hub's rules" + (f" (the 25 busiest of {len(rows)})." if len(rows) > 25 else "."),
                            [r[0].split("@")[0] for r in top], [r[1] for r in top], "threads", horizontal=True))
    bins = [["< 15 min", 0, 899], ["15-60 min", 900, 3599], ["1-4 h", 3600, 14399], ["4-24 h", 14400, 86399],
            ["1 day+", 86400, None]]
    expr = f"({epoch(d, 't.first_response_at')} - {epoch(d, 't.created_at')})"
    got = dict(fetch(conn, f"SELECT {_bin_label(expr, bins)}, count(*) FROM threads t WHERE t.first_response_at IS "
                           "NOT NULL GROUP BY 1"))
    if got:
        charts.append(_bars("First response times", "Time from a thread's first message to the first answer "
                            "(night-time messages wait for the morning shift).", [b[0] for b in bins],
                            [got.get(b[0], 0) for b in bins], "threads"))
    return charts


def charts(conn: Connection, calibrated: bool) -> list[Chart]:
    d = conn.dialect.name
    lead = f"({epoch_day(d, 'b.check_in')} - CAST({epoch(d, 'b.created_at')} / 86400 AS INTEGER))"
    out = [occupancy_heatmap(conn), status_by_month(conn),
           histogram_vs_reference(conn, "lead_time_days", lead, "Lead time", "Days between booking and arrival, "
                                  "for bookings due to arrive by as-of.", calibrated),
           histogram_vs_reference(conn, "nights", "b.nights", "Length of stay", "Nights per booking.", calibrated),
           adr_by_month(conn), tiers(conn), thread_mix(conn), *workload(conn)]
    return [c for c in out if c is not None]


def counts(conn: Connection) -> dict[str, int]:
    from hotelseed.models import metadata

    return {t.name: int(conn.execute(sa.text(f'SELECT count(*) FROM "{t.name}"')).scalar()) for t in metadata.sorted_tables}


CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d3557;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
main{max-width:1180px;margin:0 auto;padding:18px 28px}section{background:#fff;border-radius:8px;padding:14px 18px;
margin:14px 0;box-shadow:0 1px 2px rgba(0,0,0,.06)}h2{font-size:17px;margin:4px 0 8px}
.caption{color:#555;margin:0 0 8px}figure{margin:0}figure svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#1b7f3b;font-weight:600}.bad{color:#b00020;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:14px}.kv{color:#555}
"""


def render(conn: Connection, report: Report | None, meta: dict, calibrated: bool = False) -> str:
    """The report as one HTML document."""
    esc = html.escape
    table_rows = "".join(f"<tr><td>{esc(t)}</td><td class=n>{n:,}</td></tr>" for t, n in counts(conn).items() if n)
    if report is not None and report.outcomes:
        checks = "".join(
            f"<tr><td>{esc(o.check.module)}</td><td>{esc(o.check.name)}</td><td>{esc(o.check.description)}</td>"
            f"<td class=n>{o.rows_checked:,}</td><td class={'ok' if o.ok else 'bad'}>"
            f"{'0' if o.ok else f'{o.violations:,}'}</td></tr>" for o in report.outcomes)
        verdict = (f"<p class=ok>All {len(report.outcomes)} checks pass: 0 violations.</p>" if report.ok else
                   f"<p class=bad>{esc(report.failure_line())}</p>")
        check_html = (f"{verdict}<table><tr><th>module</th><th>check</th><th>invariant</th><th>rows checked</th>"
                      f"<th>violations</th></tr>{checks}</table>")
    else:
        check_html = "<p class=caption>Not verified in this report.</p>"
    figures = "".join(f"<section><h2>{esc(c.title)}</h2><p class=caption>{esc(c.caption)}</p><figure>{c.svg}</figure>"
                      f"</section>" for c in charts(conn, calibrated))
    facts = " · ".join(f"<span class=kv>{esc(k)}</span> {esc(str(v))}" for k, v in meta.items())
    written = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content='width=device-width,"
            f"initial-scale=1'><title>hotelseed report</title><style>{CSS}</style></head><body><header><h1>hotelseed "
            f"report</h1><div>{facts}</div></header><main>"
            f"<div class=grid><section><h2>Rows per table</h2><table>{table_rows}</table></section>"
            f"<section><h2>Verification</h2>{check_html}</section></div>{figures}"
            f"<p class=caption>Written {written} by hotelseed {__version__}. Charts drawn with Matplotlib; this file "
            f"needs nothing else to open.</p></main></body></html>")
