"""Stream framing: frames split across reads, many frames per read, large
payloads written in pieces (partial writev) keep order and content.

Runs on the controller against a real socketpair and a real Broker; the
router is a recorder, since only the Stream's byte handling is under test.
"""
import os
import select
import socket
import threading
import time

import mitogen.core
from mitogen.core import HEADER, HEADER_MAGIC, Message


class RecordingRouter(object):
    max_message_size = mitogen.core.DEFAULT_MAX_MESSAGE_SIZE

    def __init__(self, broker=None):
        self.broker = broker
        self.received = []
        self.done = threading.Event()
        self.expect = None

    def _async_route(self, msg, stream):
        self.received.append((msg.handle, msg.data))
        if self.expect is not None and len(self.received) >= self.expect:
            self.done.set()

    def _on_stream_disconnect(self, stream):
        self.done.set()


def frame(handle, data):
    return HEADER.pack(HEADER_MAGIC, 1, 0, 0, handle, 0, len(data)) + data


def payloads():
    return [os.urandom(n) for n in (0, 1, 25, 4000, 16383, 16384, 70000, 300000)]


def test_frames_split_at_any_boundary():
    data = payloads()
    wire = b''.join(frame(i, d) for i, d in enumerate(data))
    for piece in (1, 7, 26, 27, 4096, 65536, len(wire)):
        a, b = socket.socketpair()
        router = RecordingRouter()
        stream = mitogen.core.Stream(router, a.detach())
        for i in range(0, len(wire), piece):
            stream._on_data(wire[i:i + piece])
        assert router.received == list(enumerate(data)), piece
        assert not stream._rbuf
        b.close()
        os.close(stream.rfd)


def test_large_and_small_messages_from_threads_arrive_whole_and_in_order():
    broker = mitogen.core.Broker()
    a, b = socket.socketpair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)   # forces partial writes
    sender = mitogen.core.Stream(RecordingRouter(broker), a.detach())
    sink = RecordingRouter()
    sink.expect = 2 * 40
    reader = mitogen.core.Stream(sink, b.detach())
    try:

        def drain():
            while not sink.done.is_set():
                try:
                    chunk = os.read(reader.rfd, 1 << 16)
                except BlockingIOError:
                    select.select([reader.rfd], [], [], 0.5)
                    continue
                if not chunk:
                    break
                reader._on_data(chunk)
        t = threading.Thread(target=drain)
        t.start()
        data = payloads() * 5

        def send_all(handle):
            for d in data:
                sender.send(Message(dst_id=1, handle=handle, data=d))
        senders = [threading.Thread(target=send_all, args=(h,)) for h in (1, 2)]
        for s in senders:
            s.start()
        for s in senders:
            s.join(30)
        assert sink.done.wait(30)
        t.join(10)
        for handle in (1, 2):
            assert [d for h, d in sink.received if h == handle] == data
        # The broker thread subtracts a write from pending_bytes after
        # os.write() returns, so the reader may see the bytes first.
        deadline = time.monotonic() + 10
        while sender.pending_bytes and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sender.pending_bytes == 0
    finally:
        broker.shutdown()
        broker.join(10)
        for stream in (sender, reader):
            os.close(stream.rfd)
