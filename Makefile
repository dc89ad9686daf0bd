# Two commands set up a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= results

.PHONY: demo test lint bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# the demo installs the torch extra too: the BPTT comparison needs it, and sparse simulations
# use its CPU kernels (`pip install -e .` alone gives the core; reproduce then skips that figure)
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -e ".[torch]"
	touch $@

# the test environment also gets NeuroGym (its adapter is tested on two of its tasks); neurogym
# 2.3.1 pins numpy 2.2 and matplotlib 3.10 but runs with the current ones, so it is installed
# without its pins, after its runtime dependencies (the `neurogym` extra)
$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -e ".[dev,torch,neurogym]"
	$(BIN)/python -m pip install --no-deps neurogym==2.3.1
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/lowrank-rnn reproduce --quick --out $(OUT)
	@echo "Report: $(OUT)/report.html"

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -m "not slow"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks

# the documentation (docs/_build/html/index.html): warnings are errors, and every gallery example
# runs (a failing example, a malformed docstring or a broken reference fails the build)
$(VENV)/.installed-docs: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -e ".[docs,torch]"
	touch $@ $(VENV)/.installed

docs: $(VENV)/.installed-docs
	rm -rf docs/api/generated docs/auto_examples docs/_generated
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo "Documentation: docs/_build/html/index.html"

bench: $(VENV)/.installed-dev
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) $(OUT) build src/*.egg-info .pytest_cache docs/_build docs/api/generated \
		docs/auto_examples docs/_generated docs/sg_execution_times.rst
