# Entry points: `make demo` and `make test` (see README.md).  Both idempotent.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TEST_TIMEOUT ?= 300
DISTROS ?= bookworm
PYTEST_ARGS ?=
# compat editable mode puts the checkout on sys.path, so packages that other
# engineers add later (mitogen/ ...) are importable without reinstalling.
PIP_INSTALL := $(PY) -m pip install -q --config-settings editable_mode=compat -e

.PHONY: venv demo test lint images deps docker clean-targets collection

venv: $(VENV)/.installed

$(PY):
	.ci/apt-deps python3 python3-venv
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(PY) pyproject.toml setup.py
	$(PIP_INSTALL) .
	touch $@

$(VENV)/.installed-test: $(PY) pyproject.toml setup.py
	$(PIP_INSTALL) '.[test]'
	touch $@ $(VENV)/.installed

demo: venv
	$(PY) demo/run.py

deps:
	.ci/apt-deps

docker: deps
	.ci/start-docker

images: docker $(VENV)/.installed-test
	$(PY) -m tests.testbed images $(DISTROS)

# realworld-deps (mk/debops.mk): DebOps, ansible-runner, molecule for their suites.
# The second lane (mk/lane.mk: ansible-core 2.21 on Python 3.13) runs at the
# same time as the default one (most of either waits on targets; each has
# its own test bed), its output kept in LANE_LOG and printed after; either
# failing fails the target.  Ctrl+C stops both.
LANE_LOG ?= $(VENV)/lane.log
test: deps docker $(VENV)/.installed-test images realworld-deps
	@# as pip install would: every ansible-playbook of the suite starts from bytecode
	$(PY) -m compileall -q mitogen ansible_mitogen ansible_collections >/dev/null
	VENV=$(VENV) TEST_TIMEOUT=$(TEST_TIMEOUT) setsid .ci/lane $(LANE_CORE) $(LANE_PYTHON) $(LANE_TESTS) \
		>$(LANE_LOG) 2>&1 </dev/null & lane_pid=$$!; \
	trap 'kill -TERM -- -'$$lane_pid' 2>/dev/null; exit 130' INT TERM; \
	$(VENV)/bin/pytest tests --timeout=$(TEST_TIMEOUT) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no test was run" >&2; rc=1; fi; \
	wait $$lane_pid; lane=$$?; \
	echo "make test: output of the ansible-core $(LANE_CORE) lane ($(LANE_LOG)):"; cat $(LANE_LOG); \
	echo "make test: default lane exited $$rc, ansible-core $(LANE_CORE) lane exited $$lane"; \
	[ $$rc -eq 0 ] && [ $$lane -eq 0 ]

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

clean-targets:
	$(PY) -m tests.testbed down --all

# Galaxy tarball of the accel.mitogen collection (pip installs it anyway).
collection: venv
	$(VENV)/bin/ansible-galaxy collection build ansible_collections/accel/mitogen --output-path dist --force

# Make fragments of other suites (mk/debops.mk, ...); after our variables,
# whose `?=` defaults they reuse.
-include mk/*.mk
