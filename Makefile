# Vigil: `make demo` sets everything up and audits the sample corpus; `make test` runs
# lint, types and the test suite (SQLite and the PostgreSQL server on 127.0.0.1:5432).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BROWSER_STAMP := tests/browser/node_modules/.installed-stamp
DEMO_DB ?= sqlite:///demo/vigil.db

.PHONY: install browser demo test lint bench models clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# what the browser tests need: Debian's Chromium and Playwright's driver (no browser download)
$(BROWSER_STAMP): tests/browser/package.json tests/browser/package-lock.json
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)
	npm ci --prefix tests/browser
	touch $(BROWSER_STAMP)

browser: $(BROWSER_STAMP)

demo: install
	rm -f demo/vigil.db demo/vigil.db-wal demo/vigil.db-shm
	$(BIN)/vigil claims import examples/factchecks.jsonld --db $(DEMO_DB)
	$(BIN)/vigil audit examples/sample_corpus.jsonl --db $(DEMO_DB)
	$(BIN)/vigil audit examples/misinformation_posts.jsonl --db $(DEMO_DB) -q
	$(BIN)/vigil audit examples/relations_posts.jsonl --db $(DEMO_DB) -q
	$(BIN)/vigil banks create known-sexual --category sexual --notes "demo hash list" --db $(DEMO_DB)
	$(BIN)/vigil banks import known-sexual examples/media/known_media.te --db $(DEMO_DB)
	$(BIN)/vigil audit examples/media/media_posts.jsonl --db $(DEMO_DB) -q
	$(BIN)/vigil audit examples/broken_sample.jsonl --db $(DEMO_DB) --rejects demo/broken.rejects.jsonl -q
	$(BIN)/vigil report --db $(DEMO_DB)
	$(BIN)/vigil clusters list --db $(DEMO_DB)
	$(BIN)/vigil log verify --db $(DEMO_DB)
	echo "vigil-moderator" | $(BIN)/vigil users create moderator --role moderator --platform chirp --password-stdin --db $(DEMO_DB)
	echo "vigil-admin-demo" | $(BIN)/vigil users create admin --role admin --platform '*' --password-stdin --db $(DEMO_DB)
	echo "vigil-auditor" | $(BIN)/vigil users create auditor --role auditor --platform '*' --password-stdin --db $(DEMO_DB)
	@echo ""
	@echo "The console: http://127.0.0.1:8000/  (Ctrl-C stops it)"
	@echo "  moderator / vigil-moderator    (reviews chirp's queue)"
	@echo "  admin     / vigil-admin-demo   (every page, every platform)"
	@echo "  auditor   / vigil-auditor      (dashboard, policy, audit log; every platform)"
	$(BIN)/vigil serve --db $(DEMO_DB) --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: lint $(BROWSER_STAMP)
	$(BIN)/pytest -q

models: install
	$(BIN)/vigil train --report docs/quality.md

bench: install
	$(BIN)/python benchmarks/audit_throughput.py

clean:
	rm -rf demo .pytest_cache .mypy_cache .ruff_cache
