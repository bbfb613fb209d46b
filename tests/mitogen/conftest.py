"""Fixtures for the core library tests: a master router torn down per test."""
import logging

import pytest

import mitogen.master


@pytest.fixture
def router():
    r = mitogen.master.Router()
    yield r
    r.broker.shutdown()
    r.broker.join(10)
    assert not r.broker._thread.is_alive()


@pytest.fixture
def local(router):
    return router.local()


@pytest.fixture
def caplog_mitogen(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def pytest_configure(config):
    config.addinivalue_line('markers', 'testbed: needs docker and the test-bed images (deselect with -m "not testbed")')
