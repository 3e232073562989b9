# The two commands of the README: `make run` and `make test`. Everything else is plumbing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: run test lint typecheck pytest bench browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet "pip>=23.1"

$(VENV)/.installed: pyproject.toml setup.py | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

## make run: set up, start the daemon in the background, show every optimizer at work.
run: $(VENV)/.installed
	PATH="$(abspath $(BIN)):$$PATH" bash demo/run.sh

## make test: set up, then ruff, mypy and pytest.
test: $(VENV)/.installed browser lint typecheck pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .

# mypy sees the top-level folders under the names they are installed as (catalytic.daemon,
# ...) through a generated `catalytic` symlink to this directory, so it follows and checks
# the imports between them; bench/ is checked as scripts, importing them the same way.
MYPY_PATH := $(VENV)/mypy-path
PACKAGES := daemon client config plugins protocol

typecheck: $(VENV)/.installed
	mkdir -p $(MYPY_PATH) && ln -sfn "$(abspath .)" $(MYPY_PATH)/catalytic
	MYPYPATH=$(MYPY_PATH) $(BIN)/mypy $(addprefix -p catalytic.,$(PACKAGES))
	MYPYPATH=$(MYPY_PATH) $(BIN)/mypy bench

pytest: $(VENV)/.installed
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest -q -p no:cacheprovider

## Headless Chromium for the dashboard test (Debian's package; skipped loudly without apt).
browser:
	@bash scripts/ensure-chromium.sh

bench: $(VENV)/.installed-bench
	PATH="$(abspath $(BIN)):$$PATH" bash bench/run-all.sh

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
