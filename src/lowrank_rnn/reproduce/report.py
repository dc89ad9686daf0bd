"""The reproduction report: ``report.html`` (self-contained, opens from disk) and ``checks.json``.

``report.html`` has a summary line at the top (checks passed / total; figures skipped for a
missing optional package are listed under it), then a section per paper
(its citation and its own tally), and for every figure the image beside its check table
(measured, expected, tolerance, passed), the figure's parameters and run time. The run's mode,
seed, Dask settings, total run time and package versions are in the header. Images are embedded
as base64 ``data:`` URIs, so the page needs neither network nor sibling files.

``checks.json`` holds the same rows as the tables: a list of objects with keys ``paper, figure,
check, measured, expected, tolerance, passed``.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lowrank_rnn._io import write_json_atomic, write_text_atomic

if TYPE_CHECKING:  # pragma: no cover
    from lowrank_rnn.reproduce import Reproduction

__all__ = ["render_html", "summary_line", "write_report"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1250px;color:#222;padding:0 1em}
h1{margin-bottom:.2em} .summary{font-size:1.25em;margin:.5em 0 .6em}
.summary.ok b{color:#161} .summary.bad b{color:#a11}
.fig{display:flex;gap:1.5em;align-items:flex-start;margin:.5em 0 2.5em;flex-wrap:wrap}
.fig img{max-width:560px;border:1px solid #ddd}
.noimg{width:300px;padding:2em 1em;border:1px dashed #bbb;color:#777;text-align:center}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ccc;padding:3px 6px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.fail{background:#fdd} tr.pass{background:#efe} .meta{color:#555;font-size:.85em}
pre{white-space:pre-wrap;background:#fff4f4;padding:.5em;border:1px solid #ecc}
nav ul{columns:2;font-size:.9em} nav li.bad a{color:#a11}
.skip{color:#8a5a00;background:#fff8e6;padding:.3em .5em;border:1px solid #f0dca8}
"""


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else str(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _e(v: Any) -> str:
    return html.escape(_fmt(v), quote=True)


def _tally(rows: Sequence[dict]) -> tuple[int, int]:
    return sum(bool(r["passed"]) for r in rows), len(rows)


def summary_line(rows: Sequence[dict]) -> str:
    """The summary of a list of check rows: ``'Checks passed: k / n'``."""
    k, n = _tally(rows)
    return f"Checks passed: {k} / {n}"


def _anchor(*parts: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else "_" for ch in p) for p in parts)


def _image_tag(image: str | None, alt: str, image_dir: Path | None) -> str:
    if not image:
        return "<div class='noimg'>no image (the figure failed)</div>"
    if image_dir is None:
        return f"<img src='{html.escape(image, quote=True)}' alt='{html.escape(alt, quote=True)}'>"
    path = image_dir / image
    if not path.is_file():
        return f"<div class='noimg'>image {html.escape(image)} is missing</div>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    mime = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg",
            ".jpeg": "image/jpeg"}.get(path.suffix.lower(), "application/octet-stream")
    return (f"<img src='data:{mime};base64,{data}' alt='{html.escape(alt, quote=True)}' "
            f"title='{html.escape(image, quote=True)}'>")


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
        *(f"<p class='skip'>Skipped {html.escape(f.paper)} {html.escape(f.figure)}: "
          f"{html.escape(f.skipped)}</p>" for f in rep.figures if f.skipped),
        f"<p class='meta'>{html.escape(' · '.join(run_bits))}</p>",
        f"<p class='meta'>versions: {html.escape(versions)}</p>",
        "<nav><ul>",
    ]
    for paper in papers:
        pk, pn = _tally([c.as_dict() for f in rep.figures if f.paper == paper for c in f.checks])
        cls = "" if pk == pn else " class='bad'"
        parts.append(f"<li{cls}><a href='#{_anchor(paper)}'>{html.escape(paper)}</a> "
                     f"— {pk} / {pn}</li>")
    parts.append("</ul></nav>")
    for paper in papers:
        figs = [f for f in rep.figures if f.paper == paper]
        pk, pn = _tally([c.as_dict() for f in figs for c in f.checks])
        parts.append(f"<section id='{_anchor(paper)}'>")
        parts.append(f"<h2>{html.escape(paper)} <span class='meta'>({pk} / {pn} checks "
                     f"passed)</span></h2>")
        cite = rep.citations.get(paper, "")
        if cite:
            parts.append(f"<p class='meta'>{html.escape(cite)}</p>")
        for fig in figs:
            parts.append(f"<h3 id='{_anchor(paper, fig.figure)}'>{html.escape(fig.figure)} — "
                         f"{html.escape(fig.title)}</h3>")
            if fig.skipped:
                parts.append(f"<p class='skip'>Not computed: {html.escape(fig.skipped)}</p>")
                continue
            parts.append("<div class='fig'>")
            parts.append(_image_tag(fig.image, f"{paper} {fig.figure}", img_dir))
            parts.append("<div><table><tr><th>check</th><th>measured</th><th>expected</th>"
                         "<th>tolerance</th><th>passed</th></tr>")
            for c in fig.checks:
                d = c.as_dict()
                cls = "pass" if d["passed"] else "fail"
                parts.append(
                    f"<tr class='{cls}'><td>{_e(d['check'])}</td>"
                    f"<td class='num'>{_e(d['measured'])}</td>"
                    f"<td class='num'>{_e(d['expected'])}</td>"
                    f"<td class='num'>{_e(d['tolerance'])}</td>"
                    f"<td>{'yes' if d['passed'] else 'NO'}</td></tr>"
                )
            parts.append("</table>")
            if fig.params:
                params = "; ".join(f"{a} = {_fmt(b)}" for a, b in fig.params.items())
                parts.append(f"<p class='meta'>parameters: {html.escape(params)}</p>")
            parts.append(f"<p class='meta'>seed: {st.seed} · computed and drawn in "
                         f"{fig.seconds:.1f} s</p>")
            if fig.error:
                parts.append(f"<pre>{html.escape(fig.error)}</pre>")
            parts.append("</div></div>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(rep: Reproduction, out_dir: str | Path) -> None:
    """Write ``report.html`` (images from ``out_dir`` embedded) and ``checks.json`` atomically."""
    out = Path(out_dir)
    write_json_atomic(out / "checks.json", rep.checks)
    write_text_atomic(out / "report.html", render_html(rep, image_dir=out))
