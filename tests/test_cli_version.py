"""``lowrank-rnn --version`` prints the installed package's version and exits 0."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import lowrank_rnn


def test_version_matches_the_package_metadata_and_pyproject(capsys):
    from lowrank_rnn.cli import main

    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out.strip()
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    declared = re.search(r'^version = "([^"]+)"', pyproject, re.M)[1]  # no tomllib on 3.10
    assert out == f"lowrank-rnn {lowrank_rnn.__version__}"
    assert lowrank_rnn.__version__ == declared == importlib.metadata.version("lowrank-rnn")


def test_version_from_the_console_script():
    res = subprocess.run([sys.executable, "-m", "lowrank_rnn.cli", "--version"],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0 and res.stdout.strip() == f"lowrank-rnn {lowrank_rnn.__version__}"


def test_citation_and_licence_files_match_the_package():
    root = Path(__file__).parents[1]
    cff = (root / "CITATION.cff").read_text()
    assert re.search(r"^version: (\S+)$", cff, re.M)[1] == lowrank_rnn.__version__
    assert re.search(r"^license: MIT$", cff, re.M)
    assert (root / "LICENSE").read_text().startswith("MIT License")
