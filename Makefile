# gaudi-vl: `make test` installs everything the suite needs into $(VENV), lints, and runs the whole suite.
# The real-vLLM end-to-end test (issue 6) is not in the repository yet; its heavy engine install will be
# a separate step (`make e2e-install`) once it lands.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.gaudi-vl-installed

.PHONY: test quick lint install clean

$(STAMP): setup.py requirements-test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-test.txt
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .

test: lint
	$(PY) -m pytest -q

quick: lint
	$(PY) -m pytest -q -m "not e2e"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
