# The two commands of the README: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint typecheck pytest bench bench-peer bench-latency bench-burst bench-scale clean

$(STAMP): pyproject.toml
	bash scripts/bootstrap-python.sh $(PYTHON) $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

demo: $(STAMP)
	$(BIN)/syncwright demo

test: $(STAMP)
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q -n 2 --durations=25

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q -n 2 --durations=25

bench: $(STAMP)
	$(BIN)/python bench/intake.py

# The issue #13 benchmarks (docs/benchmarks.md); each takes --quick for a short run.
bench-peer: $(STAMP)
	$(BIN)/python bench/peer.py $(ARGS)

bench-latency: $(STAMP)
	$(BIN)/python bench/latency.py $(ARGS)

bench-burst: $(STAMP)
	$(BIN)/python bench/burst.py $(ARGS)

bench-scale: $(STAMP)
	bash scripts/ensure-postgres.sh
	$(BIN)/python bench/scale.py $(ARGS)

clean:
	rm -rf $(VENV) .syncwright .mypy_cache .ruff_cache .pytest_cache
