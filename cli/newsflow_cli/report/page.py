"""The report as one self-contained HTML page: inline styles, inline SVG charts, no requests.

Nothing on the page points at another host except the articles' own links, which a reader
follows by clicking; loading the page fetches nothing. Every number sits next to the command
that shows where it comes from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from newsflow_cli.report.summary import Average, EntityFigure, Figure, HostFigure, StreamReport

BAR_WIDTH = 360
ROW_HEIGHT = 22

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;
background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#c9cfdb}main{padding:12px 28px 40px;max-width:1180px}
section{background:#fff;border-radius:8px;padding:14px 18px;margin:14px 0;
box-shadow:0 1px 2px rgba(0,0,0,.08)}h2{font-size:17px;margin:0 0 10px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:0 14px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:3px 8px 3px 0;
vertical-align:top}th{font-weight:600;color:#555;border-bottom:1px solid #ddd}
td.n{text-align:right;font-variant-numeric:tabular-nums;font-weight:600}
code{font:11.5px ui-monospace,Menlo,Consolas,monospace;color:#4a5568;background:#f0f2f5;
padding:1px 4px;border-radius:3px;cursor:copy;word-break:break-all}
.tiles{display:flex;flex-wrap:wrap;gap:10px}.tile{flex:1 1 150px;border:1px solid #e3e6eb;
border-radius:6px;padding:8px 10px}.tile b{display:block;font-size:24px}
.pos{color:#1f7a3a}.neg{color:#b3261e}.muted{color:#777}details summary{cursor:pointer}
svg text{font:12px system-ui,sans-serif;fill:#1d2330}
"""

# Clicking a command copies it; the page needs no script to be read.
_SCRIPT = """
document.body.dataset.ready = "yes";
document.addEventListener("click", function (event) {
  var code = event.target.closest ? event.target.closest("code") : null;
  if (code && navigator.clipboard) { navigator.clipboard.writeText(code.textContent).catch(
    function () { /* a file:// page may not get the clipboard: nothing to do */ }); }
});
"""


def render(report: StreamReport) -> str:
    """The whole page."""
    sections = [
        _overview(report),
        _bars("Articles per day (fetched, by dt= partition)", report.per_day, "per-day"),
        _bars("Articles per domain", report.per_domain, "per-domain"),
        _outcomes(report),
        _bars("Languages", report.languages, "languages", extra=_optional([report.not_analysed])),
        _entities(report.entities),
        _sentiment("Sentiment per domain", report.sentiment_by_domain, "sentiment-domain"),
        _sentiment("Sentiment per day", report.sentiment_by_day, "sentiment-day"),
        _clusters(report),
        _bars("Sources (feeds, sitemaps, producers)", report.sources, "sources"),
        _source_items(report),
        _hosts("Slowest hosts (median fetch time)", report.slowest_hosts, "slowest-hosts"),
        _hosts("Failing hosts", report.failing_hosts, "failing-hosts"),
        _reads(report),
    ]
    body = "\n".join(section for section in sections if section)
    title = f"newsflow report {report.since} .. {report.until}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        # Belt and braces: even a link slipped into the page could not load anything.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>stack {escape(report.stack)} · generated "
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC · click a command to copy it</p></header>"
        f"<main>{body}</main><script>{_SCRIPT}</script></body></html>\n"
    )


def _section(anchor: str, title: str, content: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{content}</section>'


def _code(command: str) -> str:
    return f"<code>{escape(command)}</code>"


def _optional(figures: Iterable[Figure | None]) -> list[Figure]:
    return [figure for figure in figures if figure is not None]


def _overview(report: StreamReport) -> str:
    tiles = [("articles", report.articles, "")] + [
        (figure.label, figure.value, figure.command) for figure in report.outcomes[:4]
    ]
    content = "".join(
        f'<div class="tile" data-figure="{escape(label)}">'
        f'<span class="muted">{escape(label)}</span>'
        f"<b>{value:,}</b>{_code(command) if command else ''}</div>"
        for label, value, command in tiles
    )
    return _section("overview", "At a glance", f'<div class="tiles">{content}</div>')


def _bar_chart(rows: Sequence[tuple[str, float]], *, signed: bool = False) -> str:
    """Horizontal bars as inline SVG; signed values (-1..1) grow left or right of a middle."""
    label_width = 200
    height = ROW_HEIGHT * len(rows) + 6
    peak = max((abs(value) for _, value in rows), default=0) or 1
    parts = []
    for index, (label, value) in enumerate(rows):
        y = index * ROW_HEIGHT + 3
        if signed:
            half = BAR_WIDTH / 2
            width = abs(value) * half
            x = label_width + (half if value >= 0 else half - width)
            colour, text = ("#2f9e5a" if value >= 0 else "#d0453b"), f"{value:+.2f}"
        else:
            width = value / peak * BAR_WIDTH
            x, colour, text = label_width, "#3b6fd0", f"{value:,.0f}"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end">'
            f"{escape(label[:30])}</text>"
            f'<rect x="{x:.1f}" y="{y}" width="{max(width, 1):.1f}" height="{ROW_HEIGHT - 6}" '
            f'fill="{colour}" rx="2"/>'
            f'<text x="{label_width + BAR_WIDTH + 8}" y="{y + 14}">{text}</text>'
        )
    if signed:
        middle = label_width + BAR_WIDTH / 2
        parts.append(f'<line x1="{middle}" x2="{middle}" y1="0" y2="{height}" stroke="#999"/>')
    total_width = label_width + BAR_WIDTH + 70
    return (
        f'<svg role="img" width="{total_width}" height="{height}" '
        f'viewBox="0 0 {total_width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(parts)}</svg>"
    )


def _figure_table(figures: Iterable[Figure], header: str = "") -> str:
    rows = "".join(
        f'<tr data-figure="{escape(f.label)}"><td>{escape(f.label)}</td>'
        f'<td class="n">{f.value:,}</td><td>{_code(f.command)}</td></tr>'
        for f in figures
    )
    head = f"<tr><th>{escape(header)}</th><th>n</th><th>check with</th></tr>" if header else ""
    return f"<table>{head}{rows}</table>"


def _bars(title: str, figures: list[Figure], anchor: str, extra: list[Figure] | None = None) -> str:
    if not figures:
        return ""
    chart = _bar_chart([(f.label, f.value) for f in figures])
    return _section(anchor, title, chart + _figure_table([*figures, *(extra or [])]))


def _outcomes(report: StreamReport) -> str:
    content = _figure_table(report.outcomes, "outcome")
    if report.failures:
        rows = "".join(
            f'<tr data-figure="{escape(f.label)}"><td>{escape(f.stage)}</td>'
            f'<td>{escape(f.reason)}</td><td class="n">{f.value:,}</td>'
            f'<td><span class="muted">{escape(f.example)}</span><br>{_code(f.command)}</td></tr>'
            for f in report.failures
        )
        content += (
            "<h2>Failures by stage and reason</h2><table><tr><th>stage</th><th>reason</th>"
            f"<th>n</th><th>e.g. / check with</th></tr>{rows}</table>"
        )
    return _section("outcomes", "Outcomes", content)


def _signed(value: float | None) -> str:
    if value is None:
        return '<span class="muted">n/a</span>'
    css = "pos" if value > 0.05 else "neg" if value < -0.05 else "muted"
    return f'<span class="{css}">{value:+.2f}</span>'


def _entities(entities: list[EntityFigure]) -> str:
    if not entities:
        return ""
    rows = []
    for entity in entities:
        links = "".join(
            f'<li><a href="{escape(link.url)}" rel="noreferrer">{escape(link.title)}</a> '
            f"{_signed(link.sentiment)}</li>"
            for link in entity.links
        )
        rows.append(
            f'<tr data-figure="{escape(entity.name)}"><td><details><summary>'
            f"{escape(entity.name)}</summary><ul>{links}</ul></details></td>"
            f'<td>{escape(entity.type)}</td><td class="n">{entity.mentions:,}</td>'
            f'<td class="n">{entity.articles:,}</td><td>{_signed(entity.average_sentiment)}</td>'
            f"<td>{_code(entity.command)}</td></tr>"
        )
    table = (
        "<table><tr><th>entity (open for its articles)</th><th>type</th><th>mentions</th>"
        "<th>articles</th><th>avg tone of its articles</th><th>check with</th></tr>"
        f"{''.join(rows)}</table>"
    )
    chart = _bar_chart([(e.name, e.mentions) for e in entities])
    return _section("entities", "Who is in the news (top entities by mentions)", chart + table)


def _sentiment(title: str, averages: list[Average], anchor: str) -> str:
    if not averages:
        return ""
    chart = _bar_chart([(a.label, a.average) for a in averages], signed=True)
    rows = "".join(
        f'<tr data-figure="{escape(a.label)}"><td>{escape(a.label)}</td>'
        f'<td class="n">{a.articles:,}</td><td>{_signed(a.average)}</td><td>{_code(a.command)}'
        "</td></tr>"
        for a in averages
    )
    head = "<tr><th></th><th>articles scored</th><th>average</th><th>check with</th></tr>"
    return _section(anchor, title, f"{chart}<table>{head}{rows}</table>")


def _clusters(report: StreamReport) -> str:
    if not report.clusters and report.duplicates is None:
        return ""
    content = _figure_table(_optional([report.duplicates]))
    rows = "".join(
        f'<tr><td class="n">{c.size}</td><td>{"<br>".join(escape(t) for t in c.titles)}</td>'
        f"<td>{_code(c.command)}</td></tr>"
        for c in report.clusters
    )
    if rows:
        content += (
            f"<table><tr><th>size</th><th>articles</th><th>check with</th></tr>{rows}</table>"
        )
    return _section("duplicates", "The same story again (duplicate clusters)", content)


def _source_items(report: StreamReport) -> str:
    if not report.source_items:
        return ""
    rows = "".join(
        f'<tr data-figure="{escape(f.source_id)}"><td>{escape(f.url)}<br>'
        f'<span class="muted">{escape(f.kind or "")} {escape(f.source_id)}</span></td>'
        f'<td class="n">{f.articles:,}</td><td class="n">{f.pushed:,}</td>'
        f"<td>{escape((f.last_success_at or 'never')[:16].replace('T', ' '))}</td>"
        f"<td>{escape(f.last_error or '')}"
        f"{f' ({f.consecutive_failures} in a row)' if f.consecutive_failures else ''}</td>"
        f"<td>{_code(f.command)}</td></tr>"
        for f in report.source_items
    )
    head = (
        "<tr><th>feed or sitemap</th><th>articles in range</th><th>pushed (all time)</th>"
        "<th>last good poll</th><th>last error</th><th>check with</th></tr>"
    )
    return _section("source-items", "Feeds and sitemaps", f"<table>{head}{rows}</table>")


def _hosts(title: str, hosts: list[HostFigure], anchor: str) -> str:
    if not hosts:
        return ""
    rows = "".join(
        f'<tr data-figure="{escape(h.domain)}"><td>{escape(h.domain)}</td>'
        f'<td class="n">{h.articles:,}</td><td class="n">{h.failed:,}</td>'
        f'<td class="n">{"" if h.median_fetch_ms is None else f"{h.median_fetch_ms:,} ms"}</td>'
        f'<td class="n">{"" if h.slowest_fetch_ms is None else f"{h.slowest_fetch_ms:,} ms"}</td>'
        f"<td>{_code(h.command)}</td></tr>"
        for h in hosts
    )
    head = (
        "<tr><th>host</th><th>articles</th><th>failed</th><th>median fetch</th><th>slowest</th>"
        "<th>check with</th></tr>"
    )
    return _section(anchor, title, f"<table>{head}{rows}</table>")


def _reads(report: StreamReport) -> str:
    r = report.reads
    text = (
        f"{r.s3_list_calls:,} S3 list calls ({r.s3_keys_listed:,} keys), "
        f"{r.batch_get_calls:,} BatchGetItem calls ({r.items_read:,} article items, only the "
        f"attributes shown), {r.index_queries:,} Query pages on the failures and entity indexes "
        f"({r.index_items_read:,} items), {r.sqs_calls:,} SQS calls, {r.scans} table scans; "
        f"{r.seconds:.1f} s."
    )
    return _section("reads", "What this report read", f"<p>{escape(text)}</p>")
