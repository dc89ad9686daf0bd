"""The API reference (docs/api/*.rst) lists every public name: each name in each public
module's ``__all__`` is documented under that module, or is the same object as one documented
under another module (a re-export), and every public module has its section."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import lowrank_rnn

API = Path(__file__).parents[1] / "docs" / "api"
_DIRECTIVE = re.compile(r"^\.\. (currentmodule|automodule|autosummary|autodata|data|"
                        r"autoclass|autofunction)::\s*(\S*)")
_REEXPORT = re.compile(r"^``(\w+)``: the same object as :obj:`([\w.]+)`\.")


def public_modules() -> list[str]:
    names = ["lowrank_rnn"]
    for info in pkgutil.walk_packages(lowrank_rnn.__path__, "lowrank_rnn."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    return names


def documented() -> tuple[set[tuple[str, str]], set[str], dict[tuple[str, str], str]]:
    """(module, name) pairs documented, modules with a section, re-exports named."""
    pairs: set[tuple[str, str]] = set()
    modules: set[str] = set()
    reexports: dict[tuple[str, str], str] = {}
    for path in sorted(API.glob("*.rst")):
        current, in_summary = None, False
        for line in path.read_text(encoding="utf-8").splitlines():
            m = _DIRECTIVE.match(line)
            if m:
                kind, arg = m.groups()
                in_summary = kind == "autosummary"
                if kind in ("currentmodule", "automodule"):
                    current = arg
                    modules.add(arg)
                elif kind in ("autodata", "data", "autoclass", "autofunction"):
                    pairs.add((current, arg))
                continue
            r = _REEXPORT.match(line)
            if r:
                reexports[(current, r[1])] = r[2]
                continue
            if in_summary:
                entry = line.strip()
                if not entry or entry.startswith(":"):
                    continue
                if line.startswith("   "):
                    pairs.add((current, entry))
                else:
                    in_summary = False
    return pairs, modules, reexports


def _resolve(dotted: str):
    mod, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(mod), name)


def test_every_public_module_has_a_section():
    _, modules, _ = documented()
    missing = [m for m in public_modules()
               if m not in modules and not m.startswith("lowrank_rnn.reproduce.")]
    # the paper modules are described on their generated paper pages (docs/_generate.py), the
    # reproduce modules with an __all__ here
    paper_modules = [m for m in public_modules() if m.startswith("lowrank_rnn.reproduce.")
                     and hasattr(importlib.import_module(m), "__all__") and m not in modules]
    assert not missing and not paper_modules, (
        f"no section in docs/api: {missing + paper_modules}; add them to GROUPS in "
        "docs/_api_sections.py and run it")


def test_every_name_in_every_all_is_in_the_api_reference():
    pairs, _, reexports = documented()
    objects = {}
    for mod, name in pairs:
        try:
            objects[id(getattr(importlib.import_module(mod), name))] = f"{mod}.{name}"
        except AttributeError:
            raise AssertionError(f"docs/api names {mod}.{name}, which does not exist") from None
    missing = []
    for modname in public_modules():
        mod = importlib.import_module(modname)
        for name in getattr(mod, "__all__", []):
            if (modname, name) in pairs:
                continue
            target = reexports.get((modname, name))
            obj = getattr(mod, name)
            if target is not None and _resolve(target) is obj and id(obj) in objects:
                continue
            missing.append(f"{modname}.{name}")
    assert not missing, (f"not in docs/api/*.rst: {missing}; run python docs/_api_sections.py "
                         "(a new module needs its line in GROUPS there)")


def test_the_parser_sees_the_reference():
    pairs, modules, reexports = documented()
    assert ("lowrank_rnn.simulate", "simulate") in pairs
    assert "lowrank_rnn.theory.spectrum" in modules
    assert reexports  # the re-export lines are parsed too
