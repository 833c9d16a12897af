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

# axe-core for the report's accessibility test, pinned in tests/browser/package-lock.json.
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $(AXE)

test: $(STAMP) $(AXE)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check pipelines tests benchmarks

# JupyterLab on the demo warehouse, in French, with no call home (see deploy/jupyter/).
# Works as root (CI machines); everything it writes (settings, workspaces, checkpoints,
# runtime files) goes to $(LAB_STATE), never into a tracked folder.
LAB_STATE ?= data/lab
LAB_ARGS ?=
lab: $(STAMP)
	test -f $(DEMO_DB) || $(BIN)/vigie demo --db $(DEMO_DB)
	mkdir -p $(LAB_STATE)/checkpoints $(LAB_STATE)/runtime $(LAB_STATE)/config
	cp -R deploy/jupyter/jupyter_server_config.json deploy/jupyter/labconfig $(LAB_STATE)/config/
	cp -R -n deploy/jupyter/user-settings $(LAB_STATE)/
	PATH=$(CURDIR)/$(BIN):$$PATH VIGIE_DB=$(abspath $(DEMO_DB)) JUPYTER_CONFIG_DIR=$(abspath $(LAB_STATE))/config \
	  JUPYTER_RUNTIME_DIR=$(abspath $(LAB_STATE))/runtime \
	  $(BIN)/jupyter lab --notebook-dir=notebooks --allow-root \
	  --LabApp.user_settings_dir=$(abspath $(LAB_STATE))/user-settings \
	  --LabApp.workspaces_dir=$(abspath $(LAB_STATE))/workspaces \
	  --FileCheckpoints.checkpoint_dir=$(abspath $(LAB_STATE))/checkpoints $(LAB_ARGS)

BENCH_SCALE ?= small
bench: $(STAMP)
	BENCH_SCALE=$(BENCH_SCALE) $(BIN)/python -m benchmarks.run

# The crash-safety kill loop at its full count (CI runs a smaller count).
stress: $(STAMP)
	VIGIE_STRESS_KILLS=60 $(BIN)/python -m pytest tests/test_crash_safety.py -m slow

clean:
	rm -rf $(VENV) data/demo .pytest_cache
