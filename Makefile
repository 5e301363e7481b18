# Every target sets up what it needs: a fresh clone only needs python3 (3.11+) and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## make run: start the bot (or, with no DISCORD_TOKEN, the console chat on the same engine)
run: $(STAMP)
	@$(BIN)/mle-advisor start

## make test: lint, check the shipped knowledge, and run every test (end-to-end included)
test: $(STAMP)
	$(BIN)/ruff check bot tests scripts
	$(BIN)/mle-advisor kb check knowledge
	$(BIN)/python -m pytest

## make bench: print speed and memory figures (nothing is asserted)
bench: $(STAMP)
	$(BIN)/python scripts/bench.py

## make check: the development questions, scored as a user would ask them
check: $(STAMP)
	$(BIN)/python ../shared/eval/score.py -v

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
