"""Anonymous statistics from the case and accept facts: counts per month, with small cells
suppressed so that nobody can be recognised (as the Monitor Integriteit en Veiligheid reports).
Time-to-accept is counted in bands (within 5 minutes, 5 to 30, ...) and whether the case had to
be escalated, so it is suppressed like any other count."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from storage.models import AcceptFact, CaseFact

SMALLEST_SHOWN = 5
DIMENSIONS = ("kind", "incident_type", "how", "role", "aangifte", "platform")
SUPPRESSED = "<5"


@dataclass(frozen=True)
class Cell:
    month: str
    dimension: str
    value: str
    count: int

    @property
    def shown(self) -> str:
        return str(self.count) if self.count >= SMALLEST_SHOWN else SUPPRESSED


# Time from the first expert asked to the accept, in the bands the network reports on.
ACCEPT_BANDS = ((300, "within_5_min"), (1800, "5_to_30_min"), (7200, "30_min_to_2_hours"))


def accept_band(seconds: int) -> str:
    return next((name for limit, name in ACCEPT_BANDS if seconds <= limit), "over_2_hours")


def count_cells(engine: Engine) -> list[Cell]:
    counts: Counter[tuple[str, str, str]] = Counter()
    with engine.connect() as connection:
        for fact in connection.execute(select(CaseFact)).mappings():
            counts[(fact["month"], "total", "all")] += 1
            for dimension in DIMENSIONS:
                value = fact[dimension]
                counts[(fact["month"], dimension, "unknown" if value is None else str(value))] += 1
        for accept in connection.execute(select(AcceptFact)).mappings():
            month = accept["month"]
            counts[(month, "accepted", "all")] += 1
            counts[(month, "time_to_accept", accept_band(accept["seconds"]))] += 1
            counts[(month, "escalated", "yes" if accept["escalated"] else "no")] += 1
    return [Cell(month, dimension, value, count)
            for (month, dimension, value), count in sorted(counts.items())]


def write_csv(cells: Iterable[Cell], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["month", "dimension", "value", "count"])
        for cell in cells:
            writer.writerow([cell.month, cell.dimension, cell.value, cell.shown])


@dataclass(frozen=True)
class Panel:
    """One bar chart: stacked series per month, suppressed cells drawn as zero."""

    title: str
    months: list[str]
    series: dict[str, list[int]]


# What the chart shows, one panel each, with the order of the stacked values.
CHART_PANELS = (
    ("kind", "Meldingen per maand / Reports per month", ("incident", "onrust", "contact")),
    ("time_to_accept", "Tijd tot een expert de zaak aannam / Time until an expert accepted",
     (*(name for _, name in ACCEPT_BANDS), "over_2_hours")),
    ("escalated", "Moest worden doorgezet / Had to be escalated", ("no", "yes")),
)


def chart_panels(cells: Iterable[Cell]) -> list[Panel]:
    by_dimension: dict[str, dict[str, dict[str, int]]] = {}
    months: set[str] = set()
    for cell in cells:
        months.add(cell.month)
        shown = cell.count if cell.count >= SMALLEST_SHOWN else 0
        by_dimension.setdefault(cell.dimension, {}).setdefault(cell.value, {})[cell.month] = shown
    ordered = sorted(months)
    panels = []
    for dimension, title, order in CHART_PANELS:
        values = by_dimension.get(dimension, {})
        names = [v for v in order if v in values] + sorted(set(values) - set(order))
        panels.append(Panel(title, ordered, {
            name: [values[name].get(month, 0) for month in ordered] for name in names}))
    return panels


def write_chart(cells: Iterable[Cell], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    panels = chart_panels(cells)
    figure, axes_list = plt.subplots(len(panels), 1, figsize=(9, 4 * len(panels)), squeeze=False)
    for axes, panel in zip(axes_list[:, 0], panels, strict=True):
        bottom = [0] * len(panel.months)
        for name, heights in panel.series.items():
            axes.bar(panel.months, heights, bottom=bottom, label=name.replace("_", " "))
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        axes.set_title(panel.title)
        axes.set_ylabel("aantal / count")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        if panel.series:
            axes.legend(fontsize="small")
        else:
            axes.text(0.5, 0.5, "geen gegevens / no data", ha="center", va="center",
                      transform=axes.transAxes)
            axes.set_xticks([])
    figure.suptitle("Cellen onder 5 niet getoond / Cells under 5 not shown", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)
