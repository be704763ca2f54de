# innspill: the two commands a newcomer needs are `make up` and `make test`.
SHELL := /bin/bash
# The first Python 3.11 or 3.12 found (override: make PYTHON=/path/to/python3.12 ...).
PYTHON ?= $(shell for p in python3.11 python3.12 python3; do \
  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))' 2>/dev/null \
  && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH_WHEELS ?= /opt/wheels

.PHONY: up test test-unit deps sysdeps office browser model postgres lint bench clean

## Create the virtual environment and install the project with its test tools.
deps: $(STAMP)

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "innspill needs Python 3.11 or 3.12 with venv. On Debian/Ubuntu: sudo apt-get install python3.11 python3.11-venv"; \
	  echo "(or install it with pyenv), then run make again; make PYTHON=/path/to/python3.11 picks one explicitly."; exit 1; fi
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
	  echo "$(PYTHON) has no working venv/ensurepip module. On Debian/Ubuntu: sudo apt-get install python3-venv"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch 2.13.0 CPU build: taken from a local wheel folder when the machine has one.
	if ls $(TORCH_WHEELS)/torch-2.13.0*.whl >/dev/null 2>&1; then \
	  $(PY) -m pip install -q --find-links $(TORCH_WHEELS) torch==2.13.0; \
	else $(PY) -m pip install -q torch==2.13.0; fi
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

## Optional system packages (need root + apt): Tesseract with Norwegian for OCR of scanned letters.
sysdeps:
	@if command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -q '^nor$$'; then \
	  echo "tesseract with Norwegian present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-nor >/dev/null) \
	  || echo "WARNING: could not install tesseract; scanned PDFs will fail with no_text"; \
	else echo "WARNING: tesseract-ocr-nor missing and cannot be installed; scanned PDFs will fail with no_text"; fi

## LibreOffice (headless) for the extraction fidelity script and its tests (they skip without it).
office:
	@if command -v soffice >/dev/null; then echo "LibreOffice present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-writer-nogui >/dev/null) \
	  || echo "WARNING: could not install LibreOffice; fidelity figures fall back to reportlab"; \
	else echo "WARNING: LibreOffice missing; fidelity figures fall back to reportlab"; fi

## Chromium (Debian package) and axe-core (npm) for the browser tests; they skip cleanly without them.
browser:
	@if command -v chromium >/dev/null; then echo "chromium present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "WARNING: could not install chromium; browser tests will be skipped"; \
	else echo "WARNING: chromium missing; browser tests will be skipped"; fi
	@if [ -f tests/browser/node_modules/axe-core/axe.min.js ]; then echo "axe-core present"; \
	elif command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix tests/browser axe-core@4.10.2 >/dev/null \
	  || echo "WARNING: could not install axe-core; accessibility checks will be skipped"; \
	else echo "WARNING: npm missing; accessibility checks will be skipped"; fi

## Make sure the default classifier exists (trained offline by the project's recipe if missing).
model: deps
	$(PY) -m tools.cli.main ensure-model

## Run everything locally: broker, four services, web UI. Ctrl-C stops it all.
up: deps sysdeps model
	$(PY) -m tools.cli.main up

## PostgreSQL for the database tests: started when installed but down (tests skip PostgreSQL without it).
postgres:
	@if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1; then \
	  (command -v pg_ctlcluster >/dev/null && pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start) \
	  || echo "WARNING: PostgreSQL is down and could not be started; its tests will be skipped"; fi

## Run the whole test suite (unit, integration on a real broker + database, end-to-end).
test: deps sysdeps office browser model postgres
	$(PY) -m pytest -q -ra

bench: deps model
	$(PY) -m tools.bench.classify
	$(PY) -m tools.bench.extract
	$(PY) -m tools.bench.store

## Static checks: ruff lint, ruff format (check only) and mypy.
lint: deps
	$(VENV)/bin/ruff check shared services tools tests
	$(VENV)/bin/ruff format --check shared services tools tests
	$(VENV)/bin/mypy

## The fast inner loop: unit tests only (no broker, no services).
test-unit: deps
	$(PY) -m pytest -q -ra tests/unit

clean:
	rm -rf var .pytest_cache
