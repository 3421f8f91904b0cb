# One command each: `make demo` sets up and runs the main job, `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= $(abspath ../shared/datasets)

.PHONY: demo test test-jax test-tensorflow conformance clean

demo: $(VENV)/.installed
	$(BIN)/aekit demo

# One pytest worker per core (pytest-xdist), a test file per worker: a file's module fixtures train once.
TEST_WORKERS ?= auto
test: $(VENV)/.installed-test
	AEKIT_DATA_DIR=$${AEKIT_DATA_DIR:-$(DATA)} KERAS_BACKEND=jax $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile
	AEKIT_DATA_DIR=$${AEKIT_DATA_DIR:-$(DATA)} KERAS_BACKEND=tensorflow $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

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
