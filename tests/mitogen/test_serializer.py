"""The restricted serializer: round trips, refusals, malformed input, Secret/Blob."""
import logging

import pytest

import mitogen.core
from mitogen.core import Blob, CallError, Kwargs, Secret, StreamError, decode, encode


@pytest.mark.parametrize('obj', [
    None, True, False, 0, -1, 2 ** 63 - 1, -2 ** 63, 2 ** 100, -(2 ** 200), 1.5, float('inf'),
    '', 'h\u00e9llo \U0001f600', b'', b'\x00\xff', [1, [2, [3]]], (1, 'a'), {'a': {1: (2, 3)}},
    {1, 2}, frozenset(['x']), Kwargs(a=1),
])
def test_round_trip(obj):
    out = decode(encode(obj))
    assert out == obj and type(out) is type(obj)


def test_special_types():
    assert type(decode(encode(Blob(b'abc')))) is Blob
    s = decode(encode(Secret('pw')))
    assert type(s) is Secret and s + '' == 'pw'
    e = decode(encode(CallError('m.T', 'msg', 'tb')))
    assert isinstance(e, CallError) and (e.type_name, e.remote_msg, e.remote_tb) == ('m.T', 'msg', 'tb')
    ctx = decode(encode(mitogen.core.Context(None, 5, 'name')))
    assert ctx.context_id == 5 and ctx.name == 'name'


def test_subclasses_travel_as_base_types():
    class MyStr(str):
        pass

    class MyDict(dict):
        pass
    out = decode(encode(MyDict(a=MyStr('x'))))
    assert out == {'a': 'x'} and type(out) is dict and type(out['a']) is str


@pytest.mark.parametrize('obj', [object(), [object()], {'a': lambda: 1}, type, Exception('x'), 1j])
def test_refuses_unknown_types(obj):
    with pytest.raises(TypeError):
        encode(obj)


def test_refuses_deep_nesting():
    obj = []
    for _ in range(200):
        obj = [obj]
    with pytest.raises(TypeError):
        encode(obj)
    data = b'l\x00\x00\x00\x01' * 200 + b'l\x00\x00\x00\x00'
    with pytest.raises(StreamError):
        decode(data)


@pytest.mark.parametrize('data', [
    b'', b'Q', b's\x00\x00\x00\x10abc', b'i\x00', b'l\xff\xff\xff\xff', b'NN', b'd\x00\x00\x00\x01N',
    b's\x00\x00\x00\x02\xff\xfe',
    # blob and bytes whose length runs past the end
    encode(mitogen.core.Blob(b'abcdef'))[:-1], encode(b'abcdef')[:-1],
    # pickle opcodes must not mean anything to us
    b'\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94.',
])
def test_malformed_input(data):
    with pytest.raises(StreamError):
        decode(data)


def test_message_unpickle_raises_call_error():
    msg = mitogen.core.Message.pickled(CallError('x.Y', 'bad', ''))
    with pytest.raises(CallError):
        msg.unpickle()
    assert isinstance(msg.unpickle(throw=False), CallError)
    dead = mitogen.core.Message.dead('gone')
    assert dead.is_dead
    with pytest.raises(mitogen.core.ChannelError):
        dead.unpickle()


def test_secret_never_shown(caplog):
    s = Secret('hunter2')
    assert 'hunter2' not in repr(s) and 'hunter2' not in str(s) and 'hunter2' not in '%s' % (s,)
    assert 'hunter2' not in '{}'.format(s) and 'hunter2' not in repr([s]) and 'hunter2' not in f'{s}'
    with caplog.at_level(logging.DEBUG):
        logging.getLogger('x').warning('pw=%s %r', s, s)
    assert 'hunter2' not in caplog.text
    assert s.encode() == b'hunter2' and s + '' == 'hunter2'


def test_blob_repr():
    assert repr(Blob(b'x' * 10)) == '[blob: 10 bytes]'


def test_secret_of_secret_keeps_value():
    s = Secret(Secret('pw'))
    assert s + '' == 'pw' and type(s) is Secret
