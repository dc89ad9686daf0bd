"""Pages generated from the package at build time (never committed, never stale).

- ``_generated/papers/<key>.rst``: one page per ``lowrank-rnn reproduce`` paper key, from the
  paper's ``PAPER`` object (citation, figures, what each needs) and its module docstring;
- ``_generated/cli.rst``: the ``--help`` text of ``lowrank-rnn`` and of each command.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path


def _underline(text: str, ch: str) -> str:
    return f"{text}\n{ch * len(text)}\n"


def _indent(text: str, n: int = 3) -> str:
    pad = " " * n
    return "\n".join(pad + line if line.strip() else "" for line in text.splitlines())


def paper_pages(out: Path) -> None:
    """Write one page per paper key and an index listing them."""
    from lowrank_rnn.reproduce import PAPERS, load_paper
    from lowrank_rnn.reproduce.report import CITATIONS

    out.mkdir(parents=True, exist_ok=True)
    index = [_underline("Papers", "="), "",
             "Each key of ``lowrank-rnn reproduce`` is one paper. Its page lists the figures, what",
             "each one checks, and how to run it; :doc:`../../checks` says how checks work.", "",
             ".. toctree::", "   :maxdepth: 1", ""]
    for key, modname in PAPERS.items():
        paper = load_paper(key)
        cite = CITATIONS.get(key)
        lines = [_underline(f"{key}", "="), ""]
        if cite is not None:
            lines += [f"**{cite.title}**", "", f"{cite.authors} ({cite.year}). *{cite.venue}*.", ""]
            if cite.link:
                lines += [f"Identifier: ``{cite.link}``", ""]
        else:
            lines += [paper.citation, ""]
        lines += [".. code-block:: bash", "",
                  f"   lowrank-rnn reproduce {key} --quick --out results  # small sizes",
                  f"   lowrank-rnn reproduce {key} --full --workers 2     # paper scale", "",
                  _underline("Figures", "-"), "",
                  ".. list-table::", "   :header-rows: 1", "   :widths: 12 38 14 36", "",
                  "   * - figure", "     - what is computed and checked", "     - needs",
                  "     - what ``--quick`` leaves out"]
        for spec in paper.figures:
            needs = ", ".join(f"``{r}`` extra" for r in spec.requires) or "core install"
            lines += [f"   * - {spec.name}", f"     - {spec.title}", f"     - {needs}",
                      f"     - {spec.quick_note or '(nothing: the same sizes)'}"]
        lines += ["", _underline("How the figures are computed", "-"), "",
                  f".. automodule:: {modname}", "   :no-members:", "   :no-index:", ""]
        mod = importlib.import_module(modname)
        for sub in getattr(mod, "__path__", []) and sorted(
                p.stem for p in Path(mod.__path__[0]).glob("*.py") if not p.stem.startswith("_")):
            lines += [f".. automodule:: {modname}.{sub}", "   :no-members:", "   :no-index:", ""]
        (out / f"{key}.rst").write_text("\n".join(lines) + "\n", encoding="utf-8")
        index.append(f"   {key}")
    (out / "index.rst").write_text("\n".join(index) + "\n", encoding="utf-8")


def cli_page(path: Path) -> None:
    """Write the ``--help`` of the application and of every command."""
    from typer.testing import CliRunner

    from lowrank_rnn.cli import COMMAND_MODULES, app

    os.environ.setdefault("COLUMNS", "68")
    runner = CliRunner()
    lines = [_underline("Command line", "="), "",
             "``lowrank-rnn`` is installed with the package. A bad argument gives a one-line error",
             "naming the option as typed and what is allowed, exit code 2, and nothing written.",
             "The text below is the programs' own ``--help``, captured when these pages were",
             "built.",
             ""]
    for args in [[]] + [[c] for c in COMMAND_MODULES]:
        title = " ".join(["lowrank-rnn", *args])
        res = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "68", "NO_COLOR": "1",
                                                         "TERM": "dumb"})
        lines += [_underline(title, "-"), "", ".. code-block:: text", "",
                  _indent(res.output.rstrip()), ""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_generated_pages(docs: Path) -> None:
    """Write every generated page under ``docs/_generated``."""
    gen = docs / "_generated"
    paper_pages(gen / "papers")
    cli_page(gen / "cli.rst")
