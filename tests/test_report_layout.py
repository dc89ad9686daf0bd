"""What a reader of report.html sees first: a per-paper summary, full citations, figures that
enlarge on click, quick-mode caveats beside their figure, one heading per figure."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

import lowrank_rnn.reproduce as reproduce_mod
from lowrank_rnn.reproduce._core import Checks, FigureData, FigureSpec, Paper, Settings
from lowrank_rnn.reproduce.report import CITATIONS, render_html


def _compute(settings: Settings) -> FigureData:
    c = Checks("herbert2022", "One population")
    c.rel_close("outlier vs eq 13", 1.01, 1.0, 0.05)
    c.less("error", 3.7e-10, 1e-8)
    return FigureData({}, c, {"sigma2": np.float64(0.075), "grid": {"c": np.int64(80)}})


def _plot(fd: FigureData, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1])
    fig.savefig(path, format="png", dpi=30)
    plt.close(fig)


PAPER = Paper("herbert2022", "short", (
    FigureSpec("One population", "One population: bistability", _compute, _plot,
               quick_note="three instances instead of fifty"),
))


def _report(tmp_path, monkeypatch, quick=True) -> str:
    monkeypatch.setattr(reproduce_mod, "validate_papers", lambda keys: list(keys))
    monkeypatch.setattr(reproduce_mod, "load_paper", lambda key: PAPER)
    monkeypatch.setattr(reproduce_mod, "_versions", lambda: {"numpy": np.__version__})
    rep = reproduce_mod.reproduce(["herbert2022"], tmp_path, Settings(quick=quick))
    return render_html(rep, image_dir=tmp_path)


def test_summary_citation_zoom_and_caveat(tmp_path, monkeypatch):
    page = _report(tmp_path, monkeypatch)
    # summary table at the top: per paper passed / total and seconds, before the first figure
    top = page[:page.index("<section")]
    assert "id='papers'" in top and "2 / 2" in top and "Herbert" in top and "(2022)" in top
    # the full citation: authors, year, title, venue
    cite = CITATIONS["herbert2022"]
    assert cite.title in page and "PLoS Computational Biology" in page
    # one heading, the title's repeat of the figure name removed
    assert "One population: bistability</h3>" in page
    assert "One population — One population" not in page
    # the image can be enlarged (a checkbox the CSS toggles), and is embedded once
    assert len(re.findall(r"<img ", page)) == 1 and "class='zoom'" in page
    assert ".zoom:checked+img" in page
    # the caveat next to the figure, numbers for people, the tolerance column filled
    assert "three instances instead of fifty" in page
    assert "np.float64" not in page and "0.075" in page and "3.7×10⁻¹⁰" in page
    assert "± 0.05 (5%)" in page and "upper bound" in page


def test_full_mode_has_no_quick_caveat(tmp_path, monkeypatch):
    page = _report(tmp_path, monkeypatch, quick=False)
    assert "three instances instead of fifty" not in page
