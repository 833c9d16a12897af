"""What the analysts' notebooks share: the warehouse opened read-only, plotly set up to
work offline, the month to look at."""

from __future__ import annotations

import os
from pathlib import Path

from pipelines import warehouse
from pipelines.config import notebook_db
from pipelines.report.figures import Month


def open_warehouse(path: str | os.PathLike | None = None):
    """Read-only: a notebook never changes the warehouse (VIGIE_DB, else the demo's)."""
    chosen = Path(path) if path else notebook_db()
    return warehouse.connect(chosen, read_only=True)


def setup_plotly() -> None:
    """Charts with plotly.js inlined once per notebook and no CDN at all.

    Plotly's own "notebook" renderer inlines plotly.js but loads MathJax from a CDN with
    every chart: this one does not (the charts have no equations)."""
    import plotly.io as pio
    from plotly.io.base_renderers import NotebookRenderer

    class OfflineNotebookRenderer(NotebookRenderer):
        def to_mimebundle(self, fig_dict):
            html = pio.to_html(fig_dict, config=self.config, auto_play=self.auto_play, include_plotlyjs=False,
                               include_mathjax=False, full_html=False, animation_opts=self.animation_opts,
                               default_width="100%", default_height=450, validate=False)
            return {"text/html": html}

    pio.renderers["vigie"] = OfflineNotebookRenderer()
    pio.renderers.default = "vigie"


def latest_month(con) -> Month:
    """The last month with orders — the one a monthly report would cover."""
    key = con.execute("SELECT strftime(max(date_bc), '%Y-%m') FROM mart.orders").fetchone()[0]
    return Month.parse(key or "2026-01")


def show(frame, hide: tuple[str, ...] = ("agreement_id",), rows: int | None = 50):
    """A frame as people read it: French amounts, percentages, dates and months (the
    report's own cell formatting), no index, no raw floats or microseconds."""
    from pipelines.report.render import _cell

    shown = frame.drop(columns=[c for c in hide if c in frame.columns])
    if rows is not None:
        shown = shown.head(rows)
    formatters = {c: (lambda v, c=c: _cell(v, c)) for c in shown.columns}
    return shown.style.format(formatters, na_rep="—").hide(axis="index")


def french_columns(frame, names: dict[str, str]):
    """Rename the columns of a free query to French labels."""
    return frame.rename(columns=names)
