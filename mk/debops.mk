# Real-world suites (DebOps common.yml, molecule, ansible-runner): included
# by the Makefile; also usable alone with `make -f mk/debops.mk <target>`.
VENV ?= .venv
PY ?= $(VENV)/bin/python
TEST_TIMEOUT ?= 300

.PHONY: realworld-deps debops-reference debops-test bench-debops

$(VENV)/.installed-realworld: tests/debops/requirements.txt
	$(PY) -m pip install -q -r tests/debops/requirements.txt
	touch $@

realworld-deps: $(VENV)/.installed-realworld

# Vanilla PLAY RECAPs of a first and a second common.yml run, stored in
# tests/debops/reference/ and compared against by the CI test.
debops-reference: realworld-deps
	$(PY) -m tests.debops.debops_run reference

debops-test: realworld-deps
	$(VENV)/bin/pytest tests/debops tests/molecule tests/runner --timeout=$(TEST_TIMEOUT)

bench-debops: realworld-deps
	$(PY) bench/bench_debops.py
