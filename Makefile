# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)/include:$(PYTHONPATH)

.PHONY: venv demo test lint bench bench-sync bench-validation bench-dispatch bench-scale services clean ui browser bench-ui ui-screenshots prod-check

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip check
	touch $(STAMP)

venv: $(STAMP)

services:
	bash scripts/ensure-services.sh

demo: venv
	bash scripts/demo.sh

test: venv services browser lint
	$(BIN)/python -m pytest

# ruff's own rules at its pinned version (pyproject.toml); the format is ruff's, not a matter of taste
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The UI (docs/ui.md): Chromium and CJK fonts for its browser tests; the API server on the demo's
# data; the README's screenshots; page load times on a 1,000,000-licence MariaDB ledger.
browser:
	bash scripts/ensure-browser.sh

ui: venv
	bash scripts/ui.sh

ui-screenshots: venv services browser
	LR_UI_SCREENSHOT_DIR=$(CURDIR)/docs/img $(BIN)/python -m pytest tests/ui/test_browser.py

bench-ui: venv services
	$(BIN)/python scripts/bench_ui.py

bench: bench-validation bench-sync bench-dispatch

bench-sync: venv services
	$(BIN)/python scripts/bench_sync.py

bench-validation: venv
	$(BIN)/python scripts/bench_validation.py

bench-dispatch: venv services
	$(BIN)/python scripts/bench_dispatch.py

# 10,000,000 licences over 100 departments, kept in the database lr_bench_scale between runs
bench-scale: venv services
	$(BIN)/python scripts/bench_scale.py

# The production shape (docker-compose.yaml) run for real on this host: Celery workers, PostgreSQL
# metadata, Redis; needs requirements-prod.txt on top of requirements.txt. CI runs it (.ci/run).
PROD_STAMP := $(VENV)/.installed-prod

$(PROD_STAMP): requirements-prod.txt requirements.txt $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-prod.txt
	$(BIN)/pip check
	touch $(PROD_STAMP)

prod-check: $(PROD_STAMP) services
	$(BIN)/python scripts/prod-check.py

clean:
	rm -rf var/ .pytest_cache
