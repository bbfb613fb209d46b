"""Seeded fuzzing of the frame parser and the decoder, a few seconds each.

Whatever bytes a peer sends, the decoder returns an object or raises
StreamError (nothing else, in bounded time and memory), and the frame
parser either routes well-formed frames or closes the stream.  The seed is
fixed (MITOGEN_FUZZ_SEED overrides, MITOGEN_FUZZ_SECONDS the duration), so
a failure is reproducible.
"""
import os
import random
import time

import mitogen.core
from mitogen.core import HEADER, HEADER_MAGIC, StreamError

SEED = int(os.environ.get('MITOGEN_FUZZ_SEED', '1414'))
SECONDS = float(os.environ.get('MITOGEN_FUZZ_SECONDS', '2.5'))


def _random_object(rng, depth=0):
    leaf = [None, True, False, rng.randint(-10, 10), rng.randint(-2 ** 70, 2 ** 70), rng.random(),
            'x' * rng.randint(0, 20), b'\0' * rng.randint(0, 20), mitogen.core.Blob(b'b'),
            mitogen.core.Secret('pw'), mitogen.core.CallError('t', 'm', 'tb')]
    if depth > 3 or rng.random() < 0.4:
        return rng.choice(leaf)
    kind = rng.randint(0, 5)
    items = [_random_object(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == 0:
        return items
    if kind == 1:
        return tuple(items)
    if kind == 2:
        return dict(('k%d' % i, v) for i, v in enumerate(items))
    if kind == 3:
        return mitogen.core.Kwargs(('k%d' % i, v) for i, v in enumerate(items))
    if kind == 4:
        return set(range(len(items)))
    return mitogen.core.Context(None, rng.randint(0, 100), 'c')


def _mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randint(0, 3)
        if op == 0 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 1 and data:
            del data[rng.randrange(len(data)):][:rng.randint(1, 8)]
        elif op == 2:
            pos = rng.randint(0, len(data))
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            # A length field made huge: the classic way to ask for gigabytes.
            pos = rng.randint(0, len(data))
            data[pos:pos] = rng.choice([b'l\xff\xff\xff\xff', b's\x7f\xff\xff\xff', b'S\x00\x10\x00\x00'])
    return bytes(data)


def _until_deadline(seconds=SECONDS):
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline or n < 200:
        yield n
        n += 1


def test_decoder_fuzz():
    rng = random.Random(SEED)
    decoded = refused = 0
    for _ in _until_deadline():
        obj = _random_object(rng)
        data = mitogen.core.encode(obj)
        if rng.random() < 0.9:
            data = _mutate(rng, data)
        else:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        started = time.monotonic()
        for decode in (mitogen.core.decode,
                       lambda d: mitogen.core.decode(d, None, contexts=False, budget=1024)):
            try:
                decode(data)
                decoded += 1
            except StreamError:
                refused += 1
        assert time.monotonic() - started < 1.0, data
    assert decoded and refused


def test_control_decoder_fuzz():
    rng = random.Random(SEED + 1)
    for _ in _until_deadline(SECONDS / 2):
        handle = rng.choice(sorted(mitogen.core.CONTROL_LIMITS))
        obj = rng.choice([(rng.randint(0, 9), 'name'), 'module.name', 5, ('origin', 20, 'text'),
                          _random_object(rng)])
        data = _mutate(rng, mitogen.core.encode(obj)) if rng.random() < 0.7 else mitogen.core.encode(obj)
        msg = mitogen.core.Message(handle=handle, data=data)
        try:
            mitogen.core.decode_control(msg)
        except StreamError:
            pass


class _ParserStream(mitogen.core.Stream):
    """A Stream with nothing attached: collects routed frames, records closing."""

    def __init__(self, max_message_size):
        self.closed = False
        self.max_message_size = max_message_size
        self.router = None
        self._rbuf = bytearray()
        self.rx_bytes = 0
        self.name = 'fuzz'
        self.received = []

    def _route_received(self, msg):
        self.received.append(msg)

    def disconnect(self):
        self.closed = True


def _frame(rng, max_size):
    length = rng.randint(0, 300)
    header = HEADER.pack(HEADER_MAGIC, rng.randrange(2 ** 32), rng.randrange(2 ** 32), rng.randrange(2 ** 32),
                         rng.randrange(2 ** 32), rng.randrange(2 ** 32), length)
    return header + os.urandom(length)


def test_frame_parser_fuzz():
    rng = random.Random(SEED + 2)
    for _ in _until_deadline():
        max_size = 256
        frames = [_frame(rng, max_size) for _ in range(rng.randint(1, 5))]
        stream = _ParserStream(max_size)
        data = b''.join(frames)
        corrupt = rng.random() < 0.5
        if corrupt:
            data = _mutate(rng, data)
        # Delivered in random pieces, as reads return them.
        pos = 0
        while pos < len(data) and not stream.closed:
            step = rng.randint(1, 200)
            stream._on_data(data[pos:pos + step])
            pos += step
        if not corrupt:
            expected = [f for f in frames if len(f) - mitogen.core.HEADER_LEN <= max_size]
            if len(expected) == len(frames):
                assert not stream.closed
                assert [m.data for m in stream.received] == [f[mitogen.core.HEADER_LEN:] for f in frames]
            else:
                assert stream.closed
        for msg in stream.received:
            assert len(msg.data) <= max_size
        assert len(stream._rbuf) <= mitogen.core.HEADER_LEN + max_size + 200
