"""The reproduction report: ``report.html`` (self-contained, opens from disk) and ``checks.json``."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lowrank_rnn._io import write_json_atomic, write_text_atomic

if TYPE_CHECKING:
    from lowrank_rnn.reproduce import Reproduction

__all__ = ["write_report", "render_html"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
h1{margin-bottom:.2em} .summary{font-size:1.2em;margin:.5em 0 1.5em}
.fig{display:flex;gap:1.5em;align-items:flex-start;margin:1em 0 2.5em;flex-wrap:wrap}
.fig img{max-width:560px;border:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ccc;padding:3px 6px}
tr.fail{background:#fdd} tr.pass{background:#efe} .meta{color:#555;font-size:.85em}
pre{white-space:pre-wrap}
"""


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def render_html(rep: Reproduction) -> str:
    """Render the report as one HTML page (images referenced by relative file name)."""
    rows = rep.checks
    n, k = len(rows), rep.n_passed
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<title>lowrank-rnn reproduction report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>lowrank-rnn reproduction report</h1>",
        f"<p class='summary' id='summary'>Checks passed: <b>{k} / {n}</b></p>",
        "<p class='meta'>mode: {} · seed: {} · run time: {:.1f} s · versions: {}</p>".format(
            "quick" if rep.settings.quick else "full",
            rep.settings.seed,
            rep.seconds,
            html.escape(", ".join(f"{a} {b}" for a, b in rep.versions.items())),
        ),
    ]
    papers = list(dict.fromkeys(f.paper for f in rep.figures))
    for paper in papers:
        parts.append(f"<h2 id='{html.escape(paper)}'>{html.escape(paper)}</h2>")
        cite = rep.citations.get(paper, "")
        if cite:
            parts.append(f"<p class='meta'>{html.escape(cite)}</p>")
        for fig in (f for f in rep.figures if f.paper == paper):
            parts.append(f"<h3>{html.escape(fig.figure)} — {html.escape(fig.title)}</h3>")
            parts.append("<div class='fig'>")
            if fig.image:
                parts.append(
                    f"<img src='{html.escape(fig.image)}' alt='{html.escape(fig.figure)}'>"
                )
            parts.append("<div><table><tr><th>check</th><th>measured</th><th>expected</th>"
                         "<th>tolerance</th><th>passed</th></tr>")
            for c in fig.checks:
                d = c.as_dict()
                cls = "pass" if d["passed"] else "fail"
                parts.append(
                    f"<tr class='{cls}'><td>{html.escape(d['check'])}</td>"
                    f"<td>{html.escape(_fmt(d['measured']))}</td>"
                    f"<td>{html.escape(_fmt(d['expected']))}</td>"
                    f"<td>{html.escape(_fmt(d['tolerance']))}</td>"
                    f"<td>{'yes' if d['passed'] else 'NO'}</td></tr>"
                )
            parts.append("</table>")
            if fig.params:
                params = ", ".join(f"{a} = {_fmt(b)}" for a, b in fig.params.items())
                parts.append(f"<p class='meta'>parameters: {html.escape(params)}</p>")
            parts.append(f"<p class='meta'>{fig.seconds:.1f} s</p>")
            if fig.error:
                parts.append(f"<pre>{html.escape(fig.error)}</pre>")
            parts.append("</div></div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(rep: Reproduction, out_dir: str | Path) -> None:
    """Write ``report.html`` and ``checks.json`` into ``out_dir`` atomically."""
    out = Path(out_dir)
    write_json_atomic(out / "checks.json", rep.checks)
    write_text_atomic(out / "report.html", render_html(rep))
