# Two commands matter: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DB := data/demo/vigie.duckdb

.PHONY: demo test test-clock test-chromium test-faketime lint lab bench stress install clean

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

# `make test` alone does the whole set-up on a fresh machine, then runs every test (browser
# and slow ones included). Each prerequisite is one target: add yours to TEST_PREREQS.
TEST_PREREQS := $(STAMP) test-chromium $(AXE)
test: $(TEST_PREREQS)
	$(BIN)/python -m pytest

# A Debian package the tests need: `$(call need_deb,command,package)`. Installed with apt
# when missing and we are root (or have sudo without a password); else one French sentence.
define need_deb
	@command -v $(1) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; \
	  else echo "$(1) est introuvable : installez le paquet Debian « $(2) » (sudo apt-get install $(2)) puis relancez la commande." >&2; exit 2; fi; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; }
endef

# The report's browser test draws it in headless Chromium (tests/test_report.py).
test-chromium:
	$(call need_deb,chromium,chromium)

test-faketime:
	$(call need_deb,faketime,faketime)

# Clock-proof check (run by .ci/run after `make test`): a fast subset under libfaketime at a
# leap day, after both agreements end, and at 23:30 UTC when Paris is already the next day:
# the tests that read dates (sources, schedule, agreements, rules, CLI, parsers). Slow and
# browser tests are left out to keep it to minutes; the whole suite, Chromium included, also
# passes under libfaketime (checked by hand at 2030-03-15, see README « Horloge et rejeu »).
CLOCK_DATES  := 2028-02-29T12:00:00 2030-03-15T12:00:00 2026-12-31T23:30:00
CLOCK_SUBSET := tests/test_betagouv.py tests/test_run.py tests/test_agreements.py tests/test_rules_docs.py \
                tests/test_cli.py tests/test_parsers_properties.py
test-clock: $(STAMP) test-faketime
	@for moment in $(CLOCK_DATES); do \
	  echo "== horloge de la machine : $$moment UTC"; \
	  TZ=UTC faketime "$$(echo $$moment | tr T ' ')" $(BIN)/python -m pytest -q -p no:cacheprovider \
	    -m "not browser and not slow" $(CLOCK_SUBSET) || exit 1; \
	done

# ruff (complexity rules included, see pyproject) and the package's shape: no import cycle,
# no function over 60 lines without a reason (tests/test_architecture.py, seconds).
lint: $(STAMP)
	$(BIN)/ruff check pipelines tests benchmarks
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_architecture.py

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
