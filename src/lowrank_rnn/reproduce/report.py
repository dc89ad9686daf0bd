"""The reproduction report: ``report.html`` (self-contained, opens from disk) and ``checks.json``.

``report.html`` opens with a summary: checks passed / total over all papers, then a table with
one line per paper (its citation, checks passed / total, figures, seconds); figures skipped for a
missing optional package are listed under it. A section per paper follows (its full citation and
its own tally), and for every figure the image beside its check table (measured, expected,
tolerance, passed) and its parameters, run time and, in quick mode, what quick mode leaves out.
Images are embedded once as base64 ``data:`` URIs and shown at their own resolution up to the
column width; clicking an image enlarges it to the window (plain HTML and CSS, no script), so the
page needs neither network nor sibling files.

``checks.json`` holds the same rows as the tables: a list of objects with keys ``paper, figure,
check, kind, measured, expected, tolerance, rule, note, passed``. For the numeric kinds
(``close``, ``rel_close``, ``less``, ``greater``) ``measured`` and ``expected`` are numbers (null
when not finite, the value then in ``note``) and, for ``close`` and ``rel_close``, ``tolerance``
is the absolute tolerance; ``rule`` states the pass rule in words.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lowrank_rnn._io import write_json_atomic, write_text_atomic

if TYPE_CHECKING:  # pragma: no cover
    from lowrank_rnn.reproduce import Reproduction

__all__ = ["CITATIONS", "Citation", "format_value", "render_html", "summary_line",
           "write_report"]


@dataclass(frozen=True)
class Citation:
    """A paper's full reference (what the report and the documentation print).

    Attributes
    ----------
    authors : str
        Authors as the paper lists them.
    year : int
        Year of publication (of the version the library follows).
    title : str
        Title.
    venue : str
        Journal, conference or preprint server, with volume and pages where they exist.
    link : str
        DOI or arXiv identifier (empty when there is none).
    note : str
        Anything a reader needs to find the right version.
    short : str
        The in-text form, e.g. ``"Herbert & Ostojic (2022)"``.
    """

    authors: str
    year: int
    title: str
    venue: str
    link: str = ""
    note: str = ""
    short: str = ""

    def __str__(self) -> str:
        out = f"{self.authors} ({self.year}). {self.title}. {self.venue}."
        if self.link:
            out += f" {self.link}."
        if self.note:
            out += f" {self.note}"
        return out


#: Paper key of ``lowrank-rnn reproduce`` -> its full reference.
CITATIONS: dict[str, Citation] = {
    "herbert2022": Citation(
        "Herbert E., Ostojic S.", 2022,
        "The impact of sparsity in low-rank recurrent neural networks",
        "PLoS Computational Biology 18(8): e1010426", "doi:10.1371/journal.pcbi.1010426",
        short="Herbert & Ostojic (2022)"),
    "newlook": Citation(
        "Arora Y., Pillow J. W. (published version; the review copy followed here is anonymous)",
        2025,
        "A new look at low-rank recurrent neural networks",
        "Manuscript under double-blind review; published as \"Efficient Training of Minimal "
        "and Maximal Low-Rank Recurrent Neural Networks\", Advances in Neural Information "
        "Processing Systems (NeurIPS) 2025",
        note="Figure numbers follow the review copy.", short="Arora & Pillow (2025)"),
    "arora2025": Citation(
        "Arora Y., Pillow J. W.", 2025,
        "Efficient training of minimal and maximal low-rank recurrent neural networks",
        "Advances in Neural Information Processing Systems 38 (NeurIPS 2025)",
        short="Arora & Pillow (2025)"),
    "beiran2021": Citation(
        "Beiran M., Dubreuil A., Valente A., Mastrogiuseppe F., Ostojic S.", 2021,
        "Shaping dynamics with multiple populations in low-rank recurrent networks",
        "Neural Computation 33(6): 1572-1615", "arXiv:2007.02062", short="Beiran et al. (2021)"),
    "dubreuil2022": Citation(
        "Dubreuil A., Valente A., Beiran M., Mastrogiuseppe F., Ostojic S.", 2022,
        "The role of population structure in computations through neural dynamics",
        "Nature Neuroscience 25(6): 783-794", "doi:10.1038/s41593-022-01088-4",
        short="Dubreuil et al. (2022)"),
    "valente2022": Citation(
        "Valente A., Pillow J. W., Ostojic S.", 2022,
        "Probing the relationship between latent linear dynamical systems and low-rank linear "
        "recurrent neural network models", "Neural Computation 34(9): 1871-1892",
        "arXiv:2110.09804", short="Valente et al. (2022)"),
    "linearization": Citation(
        "Pagan M., Valente A., Ostojic S., Brody C. D.", 2023,
        "Brief technical note on linearizing recurrent neural networks (RNNs) before vs after "
        "the pointwise nonlinearity", "Technical note, arXiv preprint", "arXiv:2309.04030",
        short="Pagan et al. (2023)"),
}

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1500px;color:#222;padding:0 1em}
h1{margin-bottom:.2em} h2{margin-top:2em;border-bottom:2px solid #ddd}
.summary{font-size:1.25em;margin:.5em 0 .6em} .summary.ok b{color:#161}
.summary.bad b{color:#a11}
.fig{display:flex;gap:1.5em;align-items:flex-start;margin:.5em 0 2.5em;flex-wrap:wrap}
.figimg{flex:1 1 640px;min-width:320px} .figtab{flex:1 1 460px;min-width:320px}
.fig.wide{flex-direction:column} .fig.wide .figimg,.fig.wide .figtab{flex:none;width:auto}
.figimg img{max-width:100%;height:auto;border:1px solid #ddd;cursor:zoom-in;display:block}
.zoom{display:none}
.zoom:checked+img{position:fixed;inset:0;margin:auto;max-width:98vw;max-height:98vh;
 width:auto;height:auto;z-index:10;background:#fff;cursor:zoom-out;
 box-shadow:0 0 0 100vmax rgba(0,0,0,.6)}
.hint{color:#777;font-size:.8em}
.noimg{width:300px;padding:2em 1em;border:1px dashed #bbb;color:#777;text-align:center}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ccc;padding:3px 6px}
th{background:#f4f4f4;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums;
 white-space:nowrap} td.rule{color:#555;font-size:.92em}
tr.fail{background:#fdd} tr.pass{background:#efe} .meta{color:#555;font-size:.85em}
table.params td{background:#fafafa} table.params{margin-top:.8em}
table.papers{font-size:.95em;margin:.6em 0 1em} table.papers td.bad{color:#a11;font-weight:bold}
pre{white-space:pre-wrap;background:#fff4f4;padding:.5em;border:1px solid #ecc}
.skip{color:#8a5a00;background:#fff8e6;padding:.3em .5em;border:1px solid #f0dca8}
.quick{color:#5a4a00;background:#fffbe6;padding:.4em .6em;border-left:4px solid #e0b400;
 margin:.4em 0}
.cite{font-size:.95em} .cite i{font-style:italic}
"""

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _plain(v: Any) -> Any:
    if hasattr(v, "tolist") and not isinstance(v, str):
        return v.tolist()
    if hasattr(v, "item") and not isinstance(v, str):
        return v.item()
    return v


def format_value(v: Any) -> str:
    """A value as a person reads it.

    Floats get four significant digits (whole numbers below 10⁶ no decimals), very large or
    small ones a power of ten (``3.7×10⁻¹⁰``, ``10¹²``); NumPy scalars and arrays print as
    plain numbers and lists, dicts as ``key = value`` pairs; None is empty.

    Parameters
    ----------
    v : any
        The value.

    Returns
    -------
    str
    """
    v = _plain(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v == 0:
            return "0"
        a = abs(v)
        if 1e-3 <= a < 1e4:
            return f"{v:.4g}"
        if 1e4 <= a < 1e6:
            return f"{v:.0f}"
        mant, exp = f"{v:.2e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        power = f"10{str(int(exp)).translate(_SUPERSCRIPT)}"
        if mant in ("1", "-1"):
            return power if mant == "1" else f"-{power}"
        return f"{mant}×{power}"
    if isinstance(v, dict):
        return ", ".join(f"{k} = {format_value(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return "[" + ", ".join(format_value(x) for x in v) + "]"
    return str(v)


def _e(v: Any) -> str:
    return html.escape(format_value(v), quote=True)


def _tally(rows: Sequence[dict]) -> tuple[int, int]:
    return sum(bool(r["passed"]) for r in rows), len(rows)


def summary_line(rows: Sequence[dict]) -> str:
    """The summary of a list of check rows.

    Parameters
    ----------
    rows : sequence of dict
        Check rows as in ``checks.json``.

    Returns
    -------
    str
        ``'Checks passed: k / n'``.
    """
    k, n = _tally(rows)
    return f"Checks passed: {k} / {n}"


def _anchor(*parts: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else "_" for ch in p) for p in parts)


def _image_tag(image: str | None, alt: str, image_dir: Path | None, zoom_id: str) -> str:
    if not image:
        return "<div class='noimg'>no image (the figure failed)</div>"
    esc_alt = html.escape(alt, quote=True)
    if image_dir is None:
        src = html.escape(image, quote=True)
    else:
        path = image_dir / image
        if not path.is_file():
            return f"<div class='noimg'>image {html.escape(image)} is missing</div>"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        mime = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg",
                ".jpeg": "image/jpeg"}.get(path.suffix.lower(), "application/octet-stream")
        src = f"data:{mime};base64,{data}"
    # a label toggles a hidden checkbox; CSS enlarges the image while it is checked
    return (f"<label for='{zoom_id}'><input type='checkbox' class='zoom' id='{zoom_id}'>"
            f"<img src='{src}' alt='{esc_alt}' title='{html.escape(image, quote=True)}'>"
            "</label><div class='hint'>click the figure to enlarge it, again to close</div>")


def _png_width(path: Path) -> int:
    """Width in pixels of a PNG (its IHDR chunk); 0 when the file is not a readable PNG."""
    try:
        head = path.read_bytes()[:24]
    except OSError:
        return 0
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return 0
    return int.from_bytes(head[16:20], "big")


def _heading(name: str, title: str) -> str:
    """``Fig 2 — title``, without repeating a title that starts with the figure's name."""
    t = title.strip()
    if t.lower().startswith(name.lower()):
        rest = t[len(name):].lstrip(" :—-")
        return f"{name}: {rest}" if rest else name
    return f"{name} — {t}"


def _cells(d: dict) -> tuple[str, str, str]:
    """The measured, expected and tolerance cells of one row, formatted for people."""
    kind, m, e, t = d.get("kind", "holds"), d["measured"], d["expected"], d["tolerance"]
    measured = _e(m)
    if kind == "less":
        return measured, f"&lt; {_e(e)}", "upper bound"
    if kind == "greater":
        return measured, f"&gt; {_e(e)}", "lower bound"
    if kind == "close":
        return measured, _e(e), "exact" if t == 0 else f"± {_e(t)}"
    if kind == "rel_close":
        rule = d.get("rule", "")
        pct = rule.split("<= ", 1)[1].split(" of", 1)[0] if "<= " in rule else ""
        return measured, _e(e), f"± {_e(t)} ({html.escape(pct)})" if pct else f"± {_e(t)}"
    if kind == "error":
        return measured, "no error", "—"
    # holds: the caller's rule; a numeric tolerance when the rule names one
    exp = _e(e) if e is not None else html.escape(d.get("rule", ""))
    tol = f"{_e(t)}" if t is not None else "qualitative"
    return measured, exp, tol


def render_html(rep: Reproduction, image_dir: str | Path | None = None) -> str:
    """Render the report as one HTML page.

    Parameters
    ----------
    rep : Reproduction
        What :func:`lowrank_rnn.reproduce.reproduce` returned.
    image_dir : path, optional
        Directory holding the figure images: they are embedded as base64 ``data:`` URIs (a
        missing one is shown as missing). None: images are referenced by their file names,
        relative to the page.

    Returns
    -------
    str
        The page.
    """
    img_dir = None if image_dir is None else Path(image_dir)
    rows = rep.checks
    k, n = _tally(rows)
    st = rep.settings
    mode = "quick" if st.quick else "full (paper scale)"
    run_bits = [f"mode: {mode}", f"procedure: {st.procedure}", f"base seed: {st.seed}",
                f"run time: {rep.seconds:.1f} s"]
    if not st.quick:
        run_bits.append(f"Dask scheduler: {st.scheduler or 'local cluster'}")
        run_bits.append(f"workers: {st.workers if st.workers is not None else 'one per CPU'}")
    versions = ", ".join(f"{a} {b}" for a, b in rep.versions.items())
    papers = list(dict.fromkeys(f.paper for f in rep.figures))
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>lowrank-rnn reproduction report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>lowrank-rnn reproduction report</h1>",
        f"<p class='summary {'ok' if k == n else 'bad'}' id='summary' data-passed='{k}' "
        f"data-total='{n}'>Checks passed: <b>{k} / {n}</b></p>",
        f"<p class='meta'>{html.escape(' · '.join(run_bits))}</p>",
    ]
    if st.quick:
        parts.append("<p class='quick'>Quick mode: smaller networks, fewer instances and "
                     "shorter training than the papers; each figure says what that leaves out. "
                     "<code>lowrank-rnn reproduce --full</code> runs the papers' scale.</p>")
    parts += [f"<p class='skip'>Skipped {html.escape(f.paper)} {html.escape(f.figure)}: "
              f"{html.escape(f.skipped)}</p>" for f in rep.figures if f.skipped]
    parts.append("<table class='papers' id='papers'><tr><th>paper</th><th>reference</th>"
                 "<th>checks passed</th><th>figures</th><th>seconds</th></tr>")
    for paper in papers:
        figs = [f for f in rep.figures if f.paper == paper]
        pk, pn = _tally([c.as_dict() for f in figs for c in f.checks])
        cite = CITATIONS.get(paper)
        short = (cite.short or f"{cite.authors} ({cite.year})") if cite else ""
        cls = "" if pk == pn else " class='bad'"
        parts.append(
            f"<tr><td><a href='#{_anchor(paper)}'>{html.escape(paper)}</a></td>"
            f"<td>{html.escape(short)}</td><td{cls}>{pk} / {pn}</td>"
            f"<td class='num'>{sum(not f.skipped for f in figs)} / {len(figs)}</td>"
            f"<td class='num'>{sum(f.seconds for f in figs):.1f}</td></tr>")
    parts.append("</table>")
    parts.append(f"<p class='meta'>versions: {html.escape(versions)}</p>")
    for paper in papers:
        figs = [f for f in rep.figures if f.paper == paper]
        pk, pn = _tally([c.as_dict() for f in figs for c in f.checks])
        parts.append(f"<section id='{_anchor(paper)}'>")
        parts.append(f"<h2>{html.escape(paper)} <span class='meta'>({pk} / {pn} checks "
                     f"passed)</span></h2>")
        cite = CITATIONS.get(paper)
        if cite is not None:
            parts.append(
                f"<p class='cite'>{html.escape(cite.authors)} ({cite.year}). "
                f"<i>{html.escape(cite.title)}</i>. {html.escape(cite.venue)}."
                + (f" {html.escape(cite.link)}." if cite.link else "")
                + (f" {html.escape(cite.note)}" if cite.note else "") + "</p>")
        elif rep.citations.get(paper):
            parts.append(f"<p class='cite'>{html.escape(rep.citations[paper])}</p>")
        for fig in figs:
            parts.append(f"<h3 id='{_anchor(paper, fig.figure)}'>"
                         f"{html.escape(_heading(fig.figure, fig.title))}</h3>")
            if st.quick and fig.quick_note:
                parts.append(f"<p class='quick'><b>Quick mode:</b> "
                             f"{html.escape(fig.quick_note)}</p>")
            if fig.skipped:
                parts.append(f"<p class='skip'>Not computed: {html.escape(fig.skipped)}</p>")
                continue
            wide = _png_width(img_dir / fig.image) > 1000 if img_dir and fig.image else False
            parts.append(f"<div class='fig{' wide' if wide else ''}'><div class='figimg'>")
            parts.append(_image_tag(fig.image, f"{paper} {fig.figure}", img_dir,
                                    "zoom-" + _anchor(paper, fig.figure)))
            parts.append("</div><div class='figtab'><table><tr><th>check</th><th>measured</th>"
                         "<th>expected</th><th>tolerance</th><th>passed</th></tr>")
            for c in fig.checks:
                d = c.as_dict()
                cls = "pass" if d["passed"] else "fail"
                measured, expected, tol = _cells(d)
                note = (f"<br><span class='meta'>{html.escape(d['note'])}</span>"
                        if d.get("note") else "")
                parts.append(
                    f"<tr class='{cls}'><td>{html.escape(d['check'])}{note}</td>"
                    f"<td class='num'>{measured}</td>"
                    f"<td class='num'>{expected}</td>"
                    f"<td class='num'>{tol}</td>"
                    f"<td>{'yes' if d['passed'] else 'NO'}</td></tr>"
                )
            parts.append("</table>")
            if fig.params:
                parts.append("<table class='params'><tr><th colspan='2'>parameters</th></tr>")
                for a, b in fig.params.items():
                    parts.append(f"<tr><td>{html.escape(str(a))}</td><td>{_e(b)}</td></tr>")
                parts.append("</table>")
            parts.append(f"<p class='meta'>seed: {st.seed} · computed and drawn in "
                         f"{fig.seconds:.1f} s</p>")
            if fig.error:
                parts.append(f"<pre>{html.escape(fig.error)}</pre>")
            parts.append("</div></div>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(rep: Reproduction, out_dir: str | Path) -> None:
    """Write ``report.html`` (images from ``out_dir`` embedded) and ``checks.json`` atomically.

    Parameters
    ----------
    rep : Reproduction
        What :func:`lowrank_rnn.reproduce.reproduce` returned.
    out_dir : path
        Directory holding the figure images; the two files are written there.
    """
    out = Path(out_dir)
    write_json_atomic(out / "checks.json", rep.checks)
    write_text_atomic(out / "report.html", render_html(rep, image_dir=out))
