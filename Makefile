# One command each: `make demo` sets up and runs the main job, `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= $(abspath ../shared/datasets)

.PHONY: demo lint check test conformance clean

demo: $(VENV)/.installed
	$(BIN)/aekit demo

# pytest-xdist workers: one more than the cores (a worker waiting on a process it started leaves its core to
# that process; 607 s instead of 663 s for the jax run on 2 cores). --dist loadgroup as tests/conftest.py sets
# it up: tests that share a module fixture run on one worker (it trains once), every other test on whichever
# worker is free, slow ones first.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
PYTEST = AEKIT_DATA_DIR=$${AEKIT_DATA_DIR:-$(DATA)} $(BIN)/python -m pytest -q --dist loadgroup

# The library's behaviour in under a minute, on jax: every test not marked slow (pyproject.toml's markers),
# one worker per core (44 s on 2 cores, 57 s with a third worker), and ruff where it is installed. It says how
# long it took and which tests took longest. `make test` runs everything.
CHECK_WORKERS ?= auto
check: $(VENV)/.installed-test
	@start=$$(date +%s); status=0; \
	$(BIN)/ruff check . || status=1; $(BIN)/ruff format --check . || status=1; \
	KERAS_BACKEND=jax $(PYTEST) -n $(CHECK_WORKERS) -m "not slow" --durations=5 || status=1; \
	echo "make check: $$(( $$(date +%s) - start )) s"; exit $$status

# ruff's lint and format check (pyproject.toml's [tool.ruff]); `ruff format .` fixes the layout.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# ruff, then every test on jax, then on tensorflow those whose behaviour depends on the backend (marked backend).
test: lint
	KERAS_BACKEND=jax $(PYTEST) -n $(TEST_WORKERS)
	KERAS_BACKEND=tensorflow $(PYTEST) -n $(TEST_WORKERS)

# The lesson's 5-epoch check of the four exercises on full MNIST (a few minutes, tensorflow as the lesson).
conformance: $(VENV)/.installed-test
	AEKIT_DATA_DIR=$${AEKIT_DATA_DIR:-$(DATA)} KERAS_BACKEND=tensorflow $(BIN)/python exercises/conformance.py --epochs 5

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) || echo "no browser: the browser tests will skip (as root: apt-get install chromium chromium-driver)"
	touch $@

clean:
	rm -rf $(VENV)
