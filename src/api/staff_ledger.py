"""The finance page of the staff workbench (资金台账): the funding ledger by fiscal year, as
``GET /funding-ledger/by-year`` gives it, one fiscal year at a time: the year's platform lines a
page of :data:`PER_PAGE` at a time (:func:`projections.queries.ledger_year_lines`), the years'
totals and the chart from the ledger's compact summary by year
(:func:`projections.queries.ledger_years`). The figures are the queries'; none is computed here.
A page holds at most :data:`PER_PAGE` lines whatever the size of the ledger, and the database
sums the entries from covering indexes; a 200,000-event store listed every line of every year in
one page of 10 MiB (issue 14).

The chart of the money by year is drawn on the server as plain SVG (no script, no chart
library: the page's CSP allows none).

The chart shows, per fiscal year, a group of four bars (commitments, releases, disbursements,
recoveries) and the closing balance of outstanding commitments as a line across the years. Each
year's group carries a ``<title>`` with its figures in words, and the whole chart a ``<title>``
and ``<desc>``, so a screen reader reads what the eye sees.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from aggregates.values import Role
from projections.queries import PlatformYear, YearBalance, over_years

LEDGER_READERS = frozenset({Role.FINANCE, Role.BUREAU, Role.AUDITOR})
PER_PAGE = 50  # platform lines of a fiscal year on one page

# The four flows drawn as bars, in the ledger's order, with their colour (a palette that stays
# distinguishable for the common colour-vision deficiencies) and their Chinese name.
FLOWS: tuple[tuple[str, str, str], ...] = (
    ("commitments", "本年承诺", "#1f5fa8"),
    ("releases", "本年释放", "#8c8c8c"),
    ("disbursements", "本年拨付", "#2e8540"),
    ("recoveries", "本年追回", "#c05a00"),
)
CLOSING = ("closing_balance", "年末承诺余额", "#b0123b")

# Geometry (SVG user units): the plot area inside the margins.
WIDTH, HEIGHT = 760, 340
LEFT, RIGHT, TOP, BOTTOM = 96, 16, 20, 48
TICKS = 5


def yuan_text(amount: Decimal) -> str:
    """``1234567.5`` as ``1,234,567.50`` (the page's way of writing yuan)."""
    return f"{amount:,.2f}"


def _fen(balance: YearBalance) -> dict[str, int]:
    return {"commitments": balance.commitments, "releases": balance.releases,
            "disbursements": balance.disbursements, "recoveries": balance.recoveries,
            "closing_balance": balance.closing}


def _nice_step(span: int) -> int:
    """A round tick step (1, 2 or 5 times a power of ten, in fen) that divides ``span`` into at
    most :data:`TICKS` steps."""
    raw = max(1, -(-span // TICKS))
    power = 1
    while power * 10 <= raw:
        power *= 10
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def _axis_label(fen: int) -> str:
    """A tick's amount in 万元 (ten thousand yuan), as Chinese budgets count."""
    wan = Decimal(fen) / 1_000_000
    return f"{wan:,.0f}" if wan == wan.to_integral_value() else f"{wan:,.2f}".rstrip("0").rstrip(".")


def money_chart(summary: list[tuple[int, YearBalance]]) -> Markup:
    """The SVG chart of the years' totals (see the module docstring); empty when there is no year."""
    if not summary:
        return Markup("")
    years = [(year, _fen(totals), totals.yuan()) for year, totals in summary]
    values = [v for _, fen, _ in years for v in fen.values()]
    step = _nice_step(max(1, max(values) - min(0, min(values))))
    low = (min(0, min(values)) // step) * step  # a multiple of the step at or below 0
    high = max(step, -(-max(values) // step) * step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y_of(fen: int) -> float:
        return TOP + plot_h * (high - fen) / (high - low)

    band = plot_w / len(years)
    bar = min(28.0, band * 0.8 / len(FLOWS))
    first, last = years[0][0], years[-1][0]
    title = f"{first}年至{last}年资金情况" if first != last else f"{first}年资金情况"
    parts = [
        f'<svg class="money-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{escape(title)}</title>',
        '<desc id="chart-desc">按财政年度分组的柱形图：每年四根柱分别为本年承诺、本年释放、本年拨付和本年追回，'
        '折线为年末承诺余额；纵轴单位为万元。各年数字见下方表格。</desc>',
    ]
    # Grid lines and the amount axis.
    parts.append('<g class="axis" aria-hidden="true">')
    for tick in range(low, high + 1, step):
        y = y_of(tick)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d0d0" '
                     f'stroke-width="{2 if tick == 0 else 1}"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#333">'
                     f'{escape(_axis_label(tick))}</text>')
    parts.append(f'<text x="14" y="{TOP + plot_h / 2:.1f}" font-size="12" fill="#333" text-anchor="middle" '
                 f'transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">万元</text>')
    parts.append('</g>')
    # One group per fiscal year: its bars, its label, and its figures in words.
    points = []
    for i, (year, fen, yuan) in enumerate(years):
        centre = LEFT + band * (i + 0.5)
        words = "，".join(f"{name} {yuan_text(yuan[key])} 元" for key, name, _ in (*FLOWS, CLOSING))
        parts.append(f'<g class="year" data-year="{year}" role="group" aria-label="{year}年">'
                     f'<title>{year}年：{escape(words)}</title>')
        x = centre - bar * len(FLOWS) / 2
        for key, name, colour in FLOWS:
            top, bottom = sorted((y_of(fen[key]), y_of(0)))
            parts.append(f'<rect class="bar {key}" x="{x:.1f}" y="{top:.1f}" width="{bar:.1f}" '
                         f'height="{bottom - top:.1f}" fill="{colour}"><title>{year}年{name}：'
                         f'{yuan_text(yuan[key])} 元</title></rect>')
            x += bar
        parts.append(f'<text x="{centre:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" font-size="13" '
                     f'fill="#111">{year}年</text></g>')
        points.append((centre, y_of(fen["closing_balance"]), year, yuan["closing_balance"]))
    # The closing balance across the years.
    _key, name, colour = CLOSING
    parts.append(f'<g class="closing"><title>{name}</title>')
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
    for x, y, year, amount in points:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}"><title>{year}年{name}：'
                     f'{yuan_text(amount)} 元</title></circle>')
    parts.append('</g>')
    # The legend, under the axis.
    parts.append('<g class="legend" aria-hidden="true">')
    x = float(LEFT)
    for _key, name, colour in (*FLOWS, CLOSING):
        parts.append(f'<rect x="{x:.1f}" y="{HEIGHT - 18}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16:.1f}" y="{HEIGHT - 8}" font-size="12" fill="#111">{name}</text>')
        x += 16 + 13 * len(name) + 20
    parts.append('</g></svg>')
    return Markup("\n".join(parts))


def ledger_page(summary: list[tuple[int, YearBalance]], year: int, lines: list[PlatformYear], count: int,
                page: int, per_page: int) -> dict[str, Any]:
    """What the page shows: the navigation between the years of ``summary`` (the ledger's compact
    summary by year), the chart of every year, fiscal ``year`` with its totals and page ``page``
    of its ``count`` platform lines (``lines``, ``per_page`` a page), and the totals over every year."""
    totals = dict(summary)
    pages = max(1, -(-count // per_page))
    return {
        "fiscal_year": year,
        "years": [y for y, _ in summary],
        "year_totals": totals[year].yuan() if year in totals else YearBalance(0).yuan(),
        "platforms": [{"platform_id": line.platform_id, "name": line.name, "host_name": line.host_name,
                       "host_credit_code": line.host_credit_code, **line.balance.yuan()} for line in lines],
        "count": count, "page": page, "pages": pages, "first_line": (page - 1) * per_page + 1,
        "totals": over_years([t for _, t in summary]).yuan() if summary else None,
        "chart": money_chart(summary),
    }


__all__ = ["LEDGER_READERS", "PER_PAGE", "ledger_page", "money_chart", "yuan_text"]
