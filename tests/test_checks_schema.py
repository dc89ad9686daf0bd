"""``checks.json``: numeric fields are numbers where the row's kind declares them numeric, the
prose is in ``rule``/``note``, and every row has exactly the documented keys and types."""

from __future__ import annotations

import json
import math
from numbers import Real
from pathlib import Path

import numpy as np
import pytest

import lowrank_rnn.reproduce as reproduce_mod
from lowrank_rnn.reproduce import PAPERS
from lowrank_rnn.reproduce._core import (
    CHECK_KINDS,
    NUMERIC_KINDS,
    Checks,
    FigureData,
    FigureSpec,
    Paper,
    Settings,
    run_figure,
)
from lowrank_rnn.reproduce.report import CITATIONS, format_value

KEYS = {"paper", "figure", "check", "kind", "measured", "expected", "tolerance", "rule", "note",
        "passed"}


def _is_number(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v)


def validate_rows(rows: list) -> None:
    """The documented schema of checks.json (docs/formats.rst)."""
    assert isinstance(rows, list)
    for r in rows:
        assert set(r) == KEYS, r
        assert all(isinstance(r[k], str) and r[k] for k in ("paper", "figure", "check", "rule"))
        assert r["kind"] in CHECK_KINDS
        assert isinstance(r["passed"], bool)
        assert r["note"] is None or isinstance(r["note"], str)
        if r["kind"] in NUMERIC_KINDS:
            # a non-finite measured value is null, with the value in the note (and fails)
            assert _is_number(r["measured"]) or (r["measured"] is None and r["note"]
                                                 and not r["passed"]), r
            assert _is_number(r["expected"]), r
        if r["kind"] in ("close", "rel_close"):
            assert _is_number(r["tolerance"]) and r["tolerance"] >= 0, r
        if r["kind"] in ("less", "greater"):
            assert r["tolerance"] is None, r
        if r["kind"] == "holds" and r["tolerance"] is not None:
            assert _is_number(r["tolerance"]), r
        for k in ("measured", "expected"):  # prose never sits in the numeric columns
            if r["kind"] in NUMERIC_KINDS:
                assert not isinstance(r[k], str), r


def _all_kinds(settings: Settings) -> FigureData:
    c = Checks("toy", "Fig 1")
    c.close("abs", np.float64(0.98), 1.0, 0.05)
    c.rel_close("rel", 1.04, 1.0, 0.05)
    c.rel_close("rel fails", 1.06, 1.0, 0.05)
    c.less("bound", np.float32(1e-9), 1e-8)
    c.greater("lower bound", 1e12, 10.0, note="capped")
    c.close("not finite", float("nan"), 0.0, 1.0)
    c.holds("rule with numbers", True, np.float64(0.04), 0.0, tolerance=0.1,
            rule="|dev| <= tolerance at every point")
    c.holds("qualitative", True, [np.int64(1), 2], "strictly increasing")
    return FigureData({}, c, {"n": np.int64(3)})


def _no_plot(fd: FigureData, path: Path) -> None:
    path.write_bytes(b"")


TOY = Paper("toy", "toy", (FigureSpec("Fig 1", "all kinds", _all_kinds, _no_plot),
                           FigureSpec("Fig 2", "raises", lambda s: 1 / 0, _no_plot)))


def test_every_kind_written_as_documented(tmp_path, monkeypatch):
    monkeypatch.setattr(reproduce_mod, "validate_papers", lambda keys: list(keys))
    monkeypatch.setattr(reproduce_mod, "load_paper", lambda key: TOY)
    monkeypatch.setattr(reproduce_mod, "_versions", lambda: {"numpy": np.__version__})
    reproduce_mod.reproduce(["toy"], tmp_path, Settings())
    rows = json.loads((tmp_path / "checks.json").read_text())
    validate_rows(rows)
    by = {r["check"]: r for r in rows}
    assert [r["passed"] for r in rows] == [True, True, False, True, True, False, True, True,
                                           False]
    # rel_close: the absolute tolerance rtol |expected|, the relative one named in the rule
    assert by["rel"]["tolerance"] == pytest.approx(0.05) and "5%" in by["rel"]["rule"]
    assert by["bound"]["expected"] == 1e-8 and by["bound"]["kind"] == "less"
    assert by["not finite"]["measured"] is None and "nan" in by["not finite"]["note"]
    assert by["rule with numbers"]["tolerance"] == 0.1
    assert by["qualitative"]["rule"] == "strictly increasing"
    assert by["qualitative"]["expected"] is None
    assert by["figure computed without error"]["kind"] == "error"


def test_a_real_paper_figure_follows_the_schema(tmp_path):
    paper = reproduce_mod.load_paper("linearization")
    spec = paper.figures[0]
    res = run_figure(paper, spec, Settings(quick=True, seed=1), tmp_path)
    assert res.error is None
    rows = [c.as_dict() for c in res.checks]
    validate_rows(json.loads(json.dumps(rows)))
    assert any(r["kind"] in NUMERIC_KINDS for r in rows)


def test_every_paper_key_has_a_complete_citation():
    for key in PAPERS:
        cite = CITATIONS[key]
        assert cite.authors and cite.title and cite.venue
        assert 1990 < cite.year < 2100
        assert str(cite.year) in str(cite)


@pytest.mark.parametrize("value, text", [
    (np.float64(0.075), "0.075"), (1e12, "10¹²"), (3.7e-10, "3.7×10⁻¹⁰"), (60.0, "60"),
    (0.0, "0"), (np.int64(7), "7"), (True, "yes"), ([np.float64(0.5), 2], "[0.5, 2]"),
    ({"sigma2": np.float64(0.06), "n": 400}, "sigma2 = 0.06, n = 400"), (-2.5e6, "-2.5×10⁶"),
    (12345.678, "12346"), (0.00012, "1.2×10⁻⁴"),
])
def test_numbers_are_formatted_for_people(value, text):
    assert format_value(value) == text


def test_every_citation_has_an_in_text_form():
    for key, cite in CITATIONS.items():
        assert cite.short.endswith(f"({cite.year})"), key
