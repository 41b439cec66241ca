# Vigil: `make demo` sets everything up and audits the sample corpus; `make test` runs
# lint, types and the test suite (SQLite and the PostgreSQL server on 127.0.0.1:5432).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DB ?= sqlite:///demo/vigil.db

.PHONY: install demo test lint bench models clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	rm -f demo/vigil.db demo/vigil.db-wal demo/vigil.db-shm
	$(BIN)/vigil claims import examples/factchecks.jsonld --db $(DEMO_DB)
	$(BIN)/vigil audit examples/sample_corpus.jsonl --db $(DEMO_DB)
	$(BIN)/vigil audit examples/misinformation_posts.jsonl --db $(DEMO_DB) -q
	$(BIN)/vigil audit examples/relations_posts.jsonl --db $(DEMO_DB) -q
	$(BIN)/vigil audit examples/broken_sample.jsonl --db $(DEMO_DB) --rejects demo/broken.rejects.jsonl -q
	$(BIN)/vigil report --db $(DEMO_DB)
	$(BIN)/vigil clusters list --db $(DEMO_DB)
	$(BIN)/vigil log verify --db $(DEMO_DB)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

models: install
	$(BIN)/vigil train --report docs/quality.md

bench: install
	$(BIN)/python benchmarks/audit_throughput.py

clean:
	rm -rf demo .pytest_cache .mypy_cache .ruff_cache
