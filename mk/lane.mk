# Second CI lane (issue 17): tests/ansible and tests/collection under
# ansible-core $(LANE_CORE) on controller Python $(LANE_PYTHON), run by
# `make test` beside the default suite; `make test-lane` alone.  .ci/lane
# finds the Python (pyenv, /usr/bin, /usr/local/bin) or runs the
# controller in a Debian 13 container.  On 2 cores: ~18-21 min alone.
# PYTEST_ARGS reaches .ci/lane in the environment (make exports command
# line variables); the lane splits it by the shell's quoting rules.
LANE_CORE ?= 2.21
LANE_PYTHON ?= 3.13
LANE_TESTS ?= tests/ansible tests/collection

.PHONY: test-lane

test-lane: deps docker $(VENV)/.installed-test images
	VENV=$(VENV) TEST_TIMEOUT=$(TEST_TIMEOUT) .ci/lane $(LANE_CORE) $(LANE_PYTHON) $(LANE_TESTS)
