# Every target sets itself up: a fresh clone needs nothing installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help install test demo bench proof clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install planner with its test extras

test: $(STAMP)  ## run the test suite against the embedded sandbox
	$(BIN)/python -m pytest -q

demo: $(STAMP)  ## start a sandbox, plan and apply plans/, plan again, stop the sandbox
	$(BIN)/python -m planner.demo

bench: $(STAMP)  ## measure requests and time per contact against the sandbox
	$(BIN)/python -m tests.bench

proof: $(STAMP)  ## the long property-based no-loss proof (1,000 examples per PUT semantics)
	PLANNER_PROOF_EXAMPLES=1000 $(BIN)/python -m pytest -q -m slow tests/test_no_loss.py

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info
