# Every target sets up what it needs: a fresh clone only needs python3 (3.11+) and make.
# Installs come from the lock files (exact versions and hashes, dependencies of dependencies
# included), so every machine runs the same code. `make lock` rewrites them after a change
# to pyproject.toml's dependencies.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: run test lint bench check lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# What the bot needs to run; reinstalled when the lock or the project changes.
$(VENV)/.installed-run: requirements.lock pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes --no-deps -r requirements.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	touch $@

# The same plus the test tools.
$(VENV)/.installed-dev: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.installed-run

## make run: start the bot (or, with no DISCORD_TOKEN, the console chat on the same engine)
run: $(VENV)/.installed-run
	@$(BIN)/mle-advisor start

## make test: lint, check the shipped knowledge, and run every test (end-to-end included)
test: $(VENV)/.installed-dev
	$(BIN)/ruff check bot tests scripts
	$(BIN)/mle-advisor kb check knowledge
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check bot tests scripts

## make bench: print speed and memory figures (nothing is asserted)
bench: $(VENV)/.installed-dev
	$(BIN)/python scripts/bench.py

## make check: the development questions, scored as a user would ask them
check: $(VENV)/.installed-dev
	$(BIN)/python ../shared/eval/score.py -v

## make lock: after changing dependencies in pyproject.toml, pin them again (needs the network)
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
              --no-emit-find-links --build-deps-for editable
lock:
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --quiet pip-tools==7.6.2
	$(VENV)-lock/bin/pip-compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml
	$(VENV)-lock/bin/pip-compile $(LOCK_FLAGS) --extra dev -o requirements-dev.lock pyproject.toml
	rm -rf $(VENV)-lock

clean:
	rm -rf $(VENV) $(VENV)-lock .pytest_cache .ruff_cache .hypothesis
