"""Write the API reference sections, ``docs/api/<group>.rst``, from :data:`GROUPS`.

Run ``python docs/_api_sections.py`` from the repository root after adding a public module or
a name to an ``__all__`` (a new module also needs its line in :data:`GROUPS`; the script lists
public modules that no group names), then review the diff. ``tests/test_docs_api.py`` fails
while a public name is missing from ``docs/api/*.rst``.

Each module gets its docstring, an autosummary of its functions and classes (one page each,
written to ``docs/api/generated/`` at build time) and its constants. A name that is the same
object as one documented earlier is listed as such instead of twice (Sphinx warns on a
duplicate description, and the build treats warnings as errors).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import lowrank_rnn

API = Path(__file__).resolve().parent / "api"
_VALUES = (str, int, float, dict, tuple, list, frozenset)

#: (file, title, introduction, modules) of each section, in the order of the reference.
GROUPS: list[tuple[str, str, str, list[str]]] = [
    ("structure", "Network structure",
     "The network object, its builders, the very large fixed-degree matrix and the transfer "
     "functions.",
     ["lowrank_rnn", "lowrank_rnn.network", "lowrank_rnn.connectivity", "lowrank_rnn.large",
      "lowrank_rnn.transfer"]),
    ("io", "Saving and loading",
     "One open file format for every stored object (:doc:`../file-format`); nothing is ever "
     "unpickled.",
     ["lowrank_rnn.io"]),
    ("torch", "PyTorch module",
     "The library's equation and Euler step as a ``torch.nn.Module`` (the ``torch`` extra).",
     ["lowrank_rnn.torch"]),
    ("dynamics", "Simulation and analysis",
     "Batched integration (NumPy or PyTorch CPU/GPU kernels) and what is measured on "
     "trajectories.",
     ["lowrank_rnn.simulate", "lowrank_rnn.analysis"]),
    ("theory", "Theory",
     "Predictions: spectra, Gaussian-mixture mean field, the rank-one latent ODE, fixed points, "
     "linearisation.",
     ["lowrank_rnn.theory", "lowrank_rnn.theory.spectrum", "lowrank_rnn.theory.meanfield",
      "lowrank_rnn.theory.latent", "lowrank_rnn.theory.fixedpoints",
      "lowrank_rnn.theory.linearize"]),
    ("fit", "Fitting and training",
     "Closed-form embedding, orthogonal matching pursuit, target ODEs, BPTT, the closed-form vs "
     "BPTT comparison, latent LDS fits and mixture statistics.",
     ["lowrank_rnn.fit", "lowrank_rnn.fit.regression", "lowrank_rnn.fit.omp",
      "lowrank_rnn.fit.targets", "lowrank_rnn.fit.bptt", "lowrank_rnn.fit.compare",
      "lowrank_rnn.fit.lds", "lowrank_rnn.fit.populations", "lowrank_rnn.fit.gp",
      "lowrank_rnn.fit.online", "lowrank_rnn.fit.active"]),
    ("models", "Models",
     "Latent linear dynamical systems, linear low-rank RNNs, and models of the "
     "``low_rank_rnns`` package.",
     ["lowrank_rnn.models", "lowrank_rnn.models.lds", "lowrank_rnn.models.low_rank_rnns"]),
    ("tasks", "Tasks",
     "Trial batches ``(inputs, targets, mask)`` for the tasks the papers use.",
     ["lowrank_rnn.tasks", "lowrank_rnn.tasks.decision", "lowrank_rnn.tasks.evidence",
      "lowrank_rnn.tasks.flipflop", "lowrank_rnn.tasks.cognitive", "lowrank_rnn.tasks.timing",
      "lowrank_rnn.tasks.suite", "lowrank_rnn.tasks.metrics", "lowrank_rnn.tasks.neurogym"]),
    ("plotting", "Plotting",
     "Functions that only draw, on a Matplotlib axes the caller gives; they take data computed "
     "elsewhere (or a network).",
     ["lowrank_rnn.plotting", "lowrank_rnn.plotting.spectrum", "lowrank_rnn.plotting.flow",
      "lowrank_rnn.plotting.trajectories", "lowrank_rnn.plotting.psychometric",
      "lowrank_rnn.plotting.curves", "lowrank_rnn.plotting.populations"]),
    ("sweep", "Parameter sweeps",
     "A grid of parameters x seeds on Dask or serially, stored and resumable (see "
     ":doc:`../sweeps`).",
     ["lowrank_rnn.sweep"]),
    ("reproduce", "Reproduction",
     "Each paper's figures with check tables, the report, and the sweep point functions (see "
     ":doc:`../checks`).",
     ["lowrank_rnn.reproduce", "lowrank_rnn.reproduce.report",
      "lowrank_rnn.reproduce.herbert2022.points", "lowrank_rnn.reproduce.newlook.bptt",
      "lowrank_rnn.reproduce.newlook.embedding", "lowrank_rnn.reproduce.beiran2021",
      "lowrank_rnn.reproduce.beiran2021.figures", "lowrank_rnn.reproduce.beiran2021.timing",
      "lowrank_rnn.reproduce.dubreuil2022",
      "lowrank_rnn.reproduce.arora2025"]),
    ("cli", "Command line",
     "The ``lowrank-rnn`` application and its commands (their options: "
     ":doc:`../_generated/cli`).",
     ["lowrank_rnn.cli", "lowrank_rnn.commands", "lowrank_rnn.commands.spectrum",
      "lowrank_rnn.commands.psychometric", "lowrank_rnn.commands.embed",
      "lowrank_rnn.commands.compare", "lowrank_rnn.commands.sweep",
      "lowrank_rnn.commands.reproduce", "lowrank_rnn.commands.info",
      "lowrank_rnn.commands.train", "lowrank_rnn.commands.populations"]),
]


def _module_section(mname: str, documented: dict[int, str]) -> list[str]:
    mod = importlib.import_module(mname)
    out = [mname, "-" * len(mname), "", f".. automodule:: {mname}", "   :no-members:", "",
           f".. currentmodule:: {mname}", ""]
    own = []
    for n in getattr(mod, "__all__", []):
        obj = getattr(mod, n)
        is_value = isinstance(obj, _VALUES)
        if not is_value and id(obj) in documented:
            out += [f"``{n}``: the same object as :obj:`{documented[id(obj)]}`.", ""]
            continue
        if n == "__version__":
            out += [".. data:: __version__", "",
                    "   The package version (a string, the same as ``lowrank-rnn --version`` "
                    "prints).", ""]
            continue
        own.append(n)
        if not is_value:
            documented[id(obj)] = f"{mname}.{n}"
    data = [n for n in own if not (inspect.isclass(getattr(mod, n)) or callable(getattr(mod, n)))]
    funcs = [n for n in own if n not in data]
    if funcs:
        command = mname.startswith("lowrank_rnn.commands.")
        out += [".. autosummary::", *([] if command else ["   :toctree: generated/"]), "",
                *(f"   {n}" for n in funcs), ""]
        if command:
            out += ["The options of these commands are on :doc:`../_generated/cli`.", ""]
    for n in data:
        long = len(repr(getattr(mod, n))) > 200
        out += [f".. autodata:: {n}", *(["   :no-value:"] if long else []), ""]
    return out


def main() -> None:
    """Write every section and the index; print public modules no group names."""
    documented: dict[int, str] = {}
    index = ["API reference", "=============", "",
             "Every public name of the package, generated from its docstrings. Shapes follow the",
             ":doc:`conventions <../conventions>` (batch first, time second).", "",
             ".. toctree::", "   :maxdepth: 2", ""]
    named = set()
    for slug, title, intro, modules in GROUPS:
        index.append(f"   {slug}")
        out = [title, "=" * len(title), "", intro, ""]
        for mname in modules:
            named.add(mname)
            out += _module_section(mname, documented)
        text = "\n".join(out)
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
        (API / f"{slug}.rst").write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    (API / "index.rst").write_text("\n".join(index) + "\n", encoding="utf-8")
    for info in pkgutil.walk_packages(lowrank_rnn.__path__, "lowrank_rnn."):
        private = any(p.startswith("_") for p in info.name.split(".")[1:])
        if not private and info.name not in named and hasattr(
                importlib.import_module(info.name), "__all__"):
            print(f"not in GROUPS (add it): {info.name}")


if __name__ == "__main__":
    main()
