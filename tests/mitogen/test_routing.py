"""Routing: oversize/malformed frames, unidirectional mode, policies, source authentication."""
import logging

import pytest

import mitogen.core
from tests.mitogen import funcs


def test_oversize_frame_closes_stream(router, caplog):
    ctx = router.local()
    stream = router.stream_by_id(ctx.context_id)
    with caplog.at_level(logging.ERROR, logger='mitogen'):
        ctx.call_no_reply(funcs.send_raw_frame, router.max_message_size + 1)
        latch = mitogen.core.Latch()
        mitogen.core.listen(stream, 'disconnect', lambda: latch.put(1))
        if not stream.closed:
            latch.get(timeout=10)
    assert stream.closed
    assert 'exceeds max_message_size' in caplog.text
    with pytest.raises(mitogen.core.ChannelError):
        ctx.call(funcs.noop)


def test_max_message_size_applies_to_sending_child(router):
    router.max_message_size = 128 * 1024
    ctx = router.local()
    assert ctx.call(funcs.echo, 'x' * 100) == 'x' * 100
    with pytest.raises(mitogen.core.ChannelError):
        ctx.call(funcs.echo, 'x' * 200000)   # the child drops its stream to us


def test_siblings_can_talk_by_default(router):
    a = router.local()
    b = router.local()
    # A's message to a handle that does not exist in B: B answers "no handler".
    assert 'no handler' in a.call(funcs.send_to, b.context_id, 4321)


def test_unidirectional_refuses_sibling_traffic(router, caplog):
    router.unidirectional = True
    a = router.local()
    b = router.local()
    with caplog.at_level(logging.ERROR, logger='mitogen'):
        result = a.call(funcs.send_to, b.context_id, mitogen.core.CALL_FUNCTION)
    assert 'unidirectional' in result
    assert 'unidirectional' in caplog.text
    # Talking to the parent remains possible.
    assert a.call(funcs.add, 1, 1) == 2


def test_handler_policy(router):
    a = router.local()
    seen = []
    handle = router.add_handler(seen.append, policy=lambda msg, stream: False)
    assert 'refused by policy' in a.call(funcs.send_to, 0, handle)
    assert seen == []
    recv = mitogen.core.Receiver(router, policy=lambda msg, stream: msg.src_id == a.context_id)
    a.call_no_reply(funcs.send_to, 0, recv.handle)
    assert recv.get(timeout=10).unpickle() == 'hi'


def test_child_refuses_calls_from_sibling(router):
    a = router.local()
    b = router.local()
    # A tries to make B run a function: B's dispatcher policy refuses.
    assert 'refused by policy' in a.call(funcs.send_to, b.context_id, mitogen.core.CALL_FUNCTION)


def test_source_id_spoofing_is_dropped(router, caplog):
    a = router.local()
    recv = mitogen.core.Receiver(router)
    stream = router.stream_by_id(a.context_id)
    spoofed = mitogen.core.Message.pickled('x', dst_id=0, src_id=999, handle=recv.handle)
    with caplog.at_level(logging.ERROR, logger='mitogen'):
        router.broker.defer_sync(lambda: router._async_route(spoofed, stream))
    assert 'claiming src_id 999' in caplog.text
    with pytest.raises(mitogen.core.TimeoutError):
        recv.get(timeout=0.2)


def test_no_route(router):
    recv = mitogen.core.Receiver(router)
    router.route(mitogen.core.Message(dst_id=12345, handle=1, reply_to=recv.handle))
    with pytest.raises(mitogen.core.ChannelError) as info:
        recv.get(timeout=5)
    assert 'no route' in str(info.value)
