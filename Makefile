# Two commands matter: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DB := data/demo/vigie.duckdb

.PHONY: demo test lint lab bench stress install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/vigie demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check pipelines tests benchmarks

# JupyterLab on the demo warehouse, with no call home (see deploy/jupyter/).
lab: $(STAMP)
	test -f $(DEMO_DB) || $(BIN)/vigie demo
	PATH=$(CURDIR)/$(BIN):$$PATH VIGIE_DB=$(CURDIR)/$(DEMO_DB) JUPYTER_CONFIG_DIR=$(CURDIR)/deploy/jupyter \
	  $(BIN)/jupyter lab --notebook-dir=notebooks

# The peers the benchmark measures beside Vigie (polars) are an optional group: `.[bench]`.
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

BENCH_SCALE ?= small
bench: $(BENCH_STAMP)
	BENCH_SCALE=$(BENCH_SCALE) $(BIN)/python -m benchmarks.run

# The crash-safety kill loop at its full count (CI runs a smaller count).
stress: $(STAMP)
	VIGIE_STRESS_KILLS=60 $(BIN)/python -m pytest tests/test_crash_safety.py -m slow

clean:
	rm -rf $(VENV) data/demo .pytest_cache
