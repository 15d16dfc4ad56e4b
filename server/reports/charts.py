"""The geometry of the report's charts (bars and cells in SVG units); templates/report_charts.html draws them."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.reports.schemas import FEWER_THAN_THREE

WIDTH = 640
LABEL_WIDTH = 190
BAR_HEIGHT = 22
GAP = 8
COLUMN_CHART_HEIGHT = 200


@dataclass
class Bar:
    """One bar: its label, the text shown at its end, and its box."""

    label: str
    text: str
    x: float
    y: float
    width: float
    height: float
    shade: float = 1.0  # a grid cell's darkness, 0 to 1


@dataclass
class Chart:
    """A chart's bars in an SVG of `width` by `height`."""

    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # a grid's column labels
    rows: list[str] = field(default_factory=list)  # a grid's row labels


def _text(value: int | str | float | None, percent: bool) -> str:
    if value is None:
        return "–"
    if value == FEWER_THAN_THREE:
        return "< 3"
    return f"{round(float(value) * 100)} %" if percent else str(value)


def horizontal(items: list[tuple[str, int | str | float | None]], *, percent: bool = False) -> Chart:
    """Bars from the left, one per item: counts (masked ones drawn empty) or rates between 0 and 1."""
    numbers = [v for _, v in items if isinstance(v, (int, float)) and not isinstance(v, bool)]
    top = 1.0 if percent else max(numbers, default=0) or 1
    room = WIDTH - LABEL_WIDTH - 60
    chart = Chart(WIDTH, max(len(items), 1) * (BAR_HEIGHT + GAP) + GAP)
    for n, (label, value) in enumerate(items):
        length = room * float(value) / top if isinstance(value, (int, float)) and value else 0
        chart.bars.append(
            Bar(label, _text(value, percent), LABEL_WIDTH, GAP + n * (BAR_HEIGHT + GAP), length, BAR_HEIGHT)
        )
    return chart


def columns(items: list[tuple[str, int]]) -> Chart:
    """Columns from the bottom, one per item (counts)."""
    top = max((v for _, v in items), default=0) or 1
    slot = (WIDTH - 40) / max(len(items), 1)
    base = COLUMN_CHART_HEIGHT - 30
    chart = Chart(WIDTH, COLUMN_CHART_HEIGHT)
    for n, (label, value) in enumerate(items):
        height = (base - 25) * value / top
        chart.bars.append(Bar(label, str(value), 20 + n * slot + slot * 0.15, base - height, slot * 0.7, height))
    return chart


def grid(cells: dict[tuple[str, str], int | str], row_labels: list[str], column_labels: list[str]) -> Chart:
    """A grid of rows by columns whose cells darken with their count (masked cells stay pale)."""
    top = max((v for v in cells.values() if isinstance(v, int)), default=0) or 1
    cell_width = (WIDTH - LABEL_WIDTH) / max(len(column_labels), 1)
    chart = Chart(WIDTH, 30 + max(len(row_labels), 1) * (BAR_HEIGHT + GAP), columns=column_labels, rows=row_labels)
    for r, row in enumerate(row_labels):
        for c, column in enumerate(column_labels):
            value = cells.get((row, column), 0)
            shade = value / top if isinstance(value, int) else 0.1
            chart.bars.append(
                Bar(
                    row,
                    _text(value, False) if value else "",
                    LABEL_WIDTH + c * cell_width,
                    30 + r * (BAR_HEIGHT + GAP),
                    cell_width - 2,
                    BAR_HEIGHT,
                    round(0.08 + 0.92 * shade, 3),
                )
            )
    return chart
