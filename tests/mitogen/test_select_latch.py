"""Latch, Receiver and Select semantics, including timeouts."""
import threading
import time

import pytest

import mitogen.core
import mitogen.select
from mitogen.core import Latch, LatchError, Receiver, TimeoutError
from tests.mitogen import funcs


def test_latch_basic():
    latch = Latch()
    assert latch.empty()
    latch.put(1)
    latch.put(2)
    assert latch.get() == 1 and latch.get(block=False) == 2
    with pytest.raises(TimeoutError):
        latch.get(block=False)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        latch.get(timeout=0.1)
    assert 0.09 < time.monotonic() - t0 < 1


def test_latch_wakes_other_thread_and_close():
    latch = Latch()
    threading.Timer(0.05, latch.put, ('x',)).start()
    assert latch.get(timeout=5) == 'x'
    threading.Timer(0.05, latch.close).start()
    with pytest.raises(LatchError):
        latch.get(timeout=5)
    with pytest.raises(LatchError):
        latch.put(1)


def test_receiver_timeout_and_close(router):
    recv = Receiver(router)
    with pytest.raises(TimeoutError):
        recv.get(timeout=0.05)
    router.route(mitogen.core.Message.pickled(42, dst_id=0, handle=recv.handle))
    assert recv.get(timeout=5).unpickle() == 42
    recv.close()
    with pytest.raises(mitogen.core.ChannelError):
        recv.get(timeout=5)


def test_receiver_iteration_and_sender(router):
    recv = Receiver(router)
    sender = recv.to_sender()
    for i in range(3):
        sender.send(i)
    sender.close()
    assert [m.unpickle() for m in recv] == [0, 1, 2]


def test_select_over_calls(router):
    # One child each: a child runs its calls one after another.
    ctxs = [router.local() for _ in range(3)]
    recvs = [c.call_async(funcs.sleep, d) for c, d in zip(ctxs, (0.3, 0.0, 0.1))]
    sel = mitogen.select.Select(recvs)
    order = [msg.unpickle() for msg in sel]
    assert order == [0.0, 0.1, 0.3]


def test_select_get_event_and_timeout(router):
    latch = Latch()
    recv = Receiver(router)
    sel = mitogen.select.Select([latch, recv], oneshot=False)
    with pytest.raises(TimeoutError):
        sel.get(timeout=0.05)
    latch.put('from latch')
    event = sel.get_event(timeout=5)
    assert event.source is latch and event.data == 'from latch'
    recv.to_sender().send('from recv')
    event = sel.get_event(timeout=5)
    assert event.source is recv and event.data.unpickle() == 'from recv'
    sel.remove(latch)
    with pytest.raises(mitogen.select.Error):
        sel.remove(latch)
    sel.close()


def test_select_nested_and_all(router):
    ctx = router.local()
    inner = mitogen.select.Select([ctx.call_async(funcs.add, 1, 1)])
    outer = mitogen.select.Select([inner, ctx.call_async(funcs.add, 2, 2)])
    results = sorted(outer.get(timeout=10).unpickle() for _ in range(2))
    assert results == [2, 4]
    assert mitogen.select.Select.all([ctx.call_async(funcs.add, i, 0) for i in range(4)]) == [0, 1, 2, 3]


def test_select_already_pending_items(router):
    latch = Latch()
    latch.put(1)
    sel = mitogen.select.Select([latch])
    assert sel.get(timeout=1) == 1


def test_channel_sends_receives_and_closes_both_ways(router):
    me = router.myself()
    peer = mitogen.core.Receiver(router)
    chan = mitogen.core.Channel(router, me, peer.handle)
    assert (chan.context, chan.dst_handle) == (me, peer.handle)
    chan.send('to peer')
    assert peer.get(timeout=5).unpickle() == 'to peer'
    mitogen.core.Sender(me, chan.handle).send('to channel')
    assert chan.get(timeout=5).unpickle() == 'to channel'
    chan.close()
    with pytest.raises(mitogen.core.ChannelError):
        peer.get(timeout=5).unpickle()
    with pytest.raises(mitogen.core.ChannelError):
        chan.get(timeout=5)
