"""The HTML report: parses, every image exists, its summary equals checks.json."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import lowrank_rnn.reproduce as reproduce_mod
from lowrank_rnn.reproduce._core import Checks, FigureData, FigureSpec, Paper, Settings
from lowrank_rnn.reproduce.report import render_html, write_report


# --------------------------------------------------------------------------- a toy paper
def _mean_compute(settings: Settings) -> FigureData:
    rng = np.random.default_rng(settings.seed)
    n = 10_000
    x = rng.standard_normal(n)
    c = Checks("toy", "Fig 1")
    c.close("sample mean vs 0 (5 SE)", x.mean(), 0.0, 5 / np.sqrt(n))
    c.less("sample variance < 1.5", x.var(), 1.5)
    c.close("a claim that does not hold <&>", 1.0, 2.0, 0.1)
    return FigureData({"x": x[:200]}, c, {"n": n, "dist": "normal"})


def _broken_compute(settings: Settings) -> FigureData:
    raise RuntimeError("broken <figure>")


def _plot(fd: FigureData, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.hist(fd.data["x"], bins=10)
    fig.savefig(path, format="png", dpi=40)
    plt.close(fig)


TOY = Paper("toy", "A. Author, Toy results (2024)", (
    FigureSpec("Fig 1", "Gaussian samples", _mean_compute, _plot),
    FigureSpec("Fig 2", "A figure that fails", _broken_compute, _plot),
))
OTHER = Paper("other", "B. Author, Other results", (
    FigureSpec("Fig 3", "More samples", _mean_compute, _plot),
))


@pytest.fixture
def toy_papers(monkeypatch):
    papers = {"toy": TOY, "other": OTHER}
    monkeypatch.setattr(reproduce_mod, "validate_papers", lambda keys: list(keys))
    monkeypatch.setattr(reproduce_mod, "load_paper", lambda key: papers[key])
    # the real version table imports torch (slow); the report only needs some versions to show
    monkeypatch.setattr(reproduce_mod, "_versions",
                        lambda: {"lowrank-rnn": "0.test", "numpy": np.__version__})


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.imgs: list[dict] = []
        self.summary_text = ""
        self._in_summary = False
        self.tables = 0
        self.sections: list[str] = []
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in ("img", "meta", "br", "input"):  # void elements
            self.stack.append(tag)
        if tag == "img":
            self.imgs.append(a)
        if a.get("id") == "summary":
            self._in_summary = True
        if tag == "table" and not a.get("class"):  # check tables (not summary or parameters)
            self.tables += 1
        if tag == "section":
            self.sections.append(a.get("id", ""))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> after {self.stack[-3:]}"
        self.stack.pop()
        if tag == "p":
            self._in_summary = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_summary:
            self.summary_text += data


def test_report_parses_images_exist_and_summary_matches_checks_json(tmp_path, toy_papers):
    rep = reproduce_mod.reproduce(["toy", "other"], tmp_path, Settings(quick=True, seed=3))
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    rows = json.loads((tmp_path / "checks.json").read_text())

    parser = _Collect()
    parser.feed(page)
    parser.close()
    assert parser.stack == ["html"] or parser.stack == []  # every element closed

    # the rows: 3 per working figure, 1 for the broken one
    assert len(rows) == 7 and rows == rep.checks
    assert sum(r["passed"] for r in rows) == 4  # 2 true claims x 2 figures; the rest fail
    m = re.search(r"Checks passed:\s*(\d+)\s*/\s*(\d+)", parser.summary_text)
    assert m and (int(m[1]), int(m[2])) == (sum(r["passed"] for r in rows), len(rows))

    # every image is embedded and equals the PNG drawn beside the report
    assert len(parser.imgs) == 2
    for img in parser.imgs:
        src = img["src"]
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1])
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert data == (tmp_path / img["title"]).read_bytes()
    # nothing is fetched from elsewhere
    assert "http://" not in page and "https://" not in page and "<script" not in page

    # a section per paper, a check table per figure, the run's facts
    assert parser.sections == ["toy", "other"]
    assert parser.tables == 3
    text = " ".join(parser.text)
    for needle in ("A. Author, Toy results (2024)", "broken <figure>",
                   "a claim that does not hold <&>", "10000", "base seed: 3",
                   "numpy", "run time"):
        assert needle in text, needle


def test_report_without_image_dir_references_existing_files(tmp_path, toy_papers):
    rep = reproduce_mod.reproduce(["toy"], tmp_path, Settings(quick=True))
    page = render_html(rep)
    parser = _Collect()
    parser.feed(page)
    assert parser.imgs and all((tmp_path / i["src"]).is_file() for i in parser.imgs)


def test_missing_image_is_reported_not_referenced(tmp_path, toy_papers):
    rep = reproduce_mod.reproduce(["other"], tmp_path, Settings(quick=True))
    for png in tmp_path.glob("*.png"):
        png.unlink()
    write_report(rep, tmp_path)
    page = (tmp_path / "report.html").read_text()
    parser = _Collect()
    parser.feed(page)
    assert parser.imgs == [] and "is missing" in page


def test_figure_needing_a_missing_package_is_skipped_not_failed(tmp_path, monkeypatch):
    """A figure whose optional package is absent is not computed: no check rows, no image, a
    'skipped' line naming the package and the extra to install, in the report and the CLI."""
    from typer.testing import CliRunner

    from lowrank_rnn.cli import app

    def must_not_run(settings):
        raise AssertionError("a skipped figure must not be computed")

    needy = Paper("needy", "C. Author, Needs a package", (
        FigureSpec("Fig 1", "Gaussian samples", _mean_compute, _plot),
        FigureSpec("Fig 2", "Needs a package", must_not_run, _plot,
                   requires=("no_such_package_xyz",)),
    ))
    monkeypatch.setattr(reproduce_mod, "validate_papers", lambda keys: list(keys))
    monkeypatch.setattr(reproduce_mod, "load_paper", lambda key: needy)
    monkeypatch.setattr(reproduce_mod, "_versions", lambda: {"numpy": np.__version__})
    rep = reproduce_mod.reproduce(["needy"], tmp_path, Settings(quick=True))
    assert [f.figure for f in rep.skipped] == ["Fig 2"]
    assert "no_such_package_xyz" in rep.skipped[0].skipped
    assert "lowrank-rnn[no_such_package_xyz]" in rep.skipped[0].skipped
    assert len(rep.checks) == 3 and all(r["figure"] == "Fig 1" for r in rep.checks)
    page = (tmp_path / "report.html").read_text()
    parser = _Collect()
    parser.feed(page)
    assert parser.stack in (["html"], [])
    assert len(parser.imgs) == 1 and parser.tables == 1
    assert page.count("Not computed: needs no_such_package_xyz") == 1  # in its section
    assert page.count("Skipped needy Fig 2: needs no_such_package_xyz") == 1  # under the summary

    res = CliRunner().invoke(app, ["reproduce", "needy", "--quick", "--out",
                                   str(tmp_path / "cli")])
    assert "SKIPPED" in res.output and "no_such_package_xyz" in res.output
    assert "lowrank-rnn[no_such_package_xyz]" in res.output  # brackets printed, not markup
    assert "Checks passed: 2 / 3" in res.output
