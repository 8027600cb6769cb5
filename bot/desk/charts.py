"""A statistics panel as a stacked bar chart the page draws as inline SVG (no script, so the
desk's content policy can forbid scripts altogether)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.admin.stats import Panel

COLOURS = ("#1f5f8b", "#e08a00", "#4a9c59", "#b0413e", "#7a5ea8", "#6b6b6b")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 260, 40, 30, 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    months: list[tuple[float, str]]
    ticks: list[tuple[float, int]]
    legend: list[tuple[str, str]]


def bar_chart(panel: Panel) -> Chart:
    months = panel.months
    totals = [sum(series[i] for series in panel.series.values()) for i in range(len(months))]
    highest = max(totals, default=0) or 1
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(1, len(months))
    bars = []
    for index, month in enumerate(months):
        base = 0
        for number, (name, heights) in enumerate(panel.series.items()):
            value = heights[index]
            if value:
                top = base + value
                bars.append(Bar(x=LEFT + index * slot + slot * 0.15,
                                y=TOP + plot_height * (1 - top / highest),
                                width=slot * 0.7, height=plot_height * value / highest,
                                colour=COLOURS[number % len(COLOURS)],
                                label=f"{month} {name.replace('_', ' ')}: {value}"))
            base += value
    step = max(1, round(highest / 4))
    ticks = [(TOP + plot_height * (1 - value / highest), value)
             for value in range(0, highest + 1, step)]
    return Chart(WIDTH, HEIGHT, bars,
                 [(LEFT + index * slot + slot / 2, month) for index, month in enumerate(months)],
                 ticks, [(COLOURS[n % len(COLOURS)], name.replace("_", " "))
                         for n, name in enumerate(panel.series)])
