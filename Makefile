# kube9-desktop developer commands. Every target creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export QT_QPA_PLATFORM ?= offscreen

.PHONY: demo run test lint bench bench-full package clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Reinstall when pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test,bench]"
	touch $(STAMP)

demo: $(STAMP)
	QT_QPA_PLATFORM= $(BIN)/kube9-desktop --demo

run: $(STAMP)
	QT_QPA_PLATFORM= $(BIN)/kube9-desktop

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/tree_load.py

bench-full: $(STAMP)
	$(BIN)/python benchmarks/tree_load.py --full

package: $(STAMP)
	$(BIN)/pip install -q -e ".[package]"
	bash packaging/build.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
