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

# Vanilla PLAY RECAPs (and changed-task lists) of a first and an idempotent
# second common.yml run on one fresh container, stored in
# tests/debops/reference/common-{first,second}.json and compared against by
# the CI test (tests/debops/test_debops.py).
debops-reference: realworld-deps
	$(PY) -m tests.debops.debops_run reference

debops-test: realworld-deps
	$(VENV)/bin/pytest tests/debops tests/molecule tests/runner --timeout=$(TEST_TIMEOUT)

# Both engines, first + second run, on 1 and on 10 containers at once (one
# setup at a time, fresh containers each); JSON to bench/results/, plot to
# docs/img/debops-wall.png.  e.g. `make -f mk/debops.mk bench-debops
# DEBOPS_RUNS=3 DEBOPS_TARGETS=1`.  On 2 cores: one target, both engines,
# both runs ~19 minutes; 10 targets, first run only (DEBOPS_BENCH_ARGS=
# "--passes first"), ~56 minutes (vanilla 37, ours 18).
DEBOPS_TARGETS ?= 1,10
DEBOPS_RUNS ?= 1
DEBOPS_BENCH_ARGS ?=
bench-debops: realworld-deps
	$(PY) bench/bench_debops.py --targets $(DEBOPS_TARGETS) --runs $(DEBOPS_RUNS) $(DEBOPS_BENCH_ARGS)
