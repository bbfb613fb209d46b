"""What a compromised target could do, as functions the tests run inside children.

Each function uses only what a child really has: its router, its parent
stream and the framing.  Imported in children through import forwarding.
"""
import os
import time

import mitogen
import mitogen.core
from mitogen.core import Message


def write_marker(path):
    """The payload of an attack: proof that code ran where it should not."""
    with open(path, 'w') as fp:
        fp.write('%d\n' % os.getpid())
    return True


def _raw_send(router, msg):
    """Write a frame on the parent stream exactly as given (forged header)."""
    return router.parent_stream.send(msg)


@mitogen.core.takes_router
def hijack_parent_route(marker, router=None):
    """Claim the master's id (0) at our parent, then speak as the master.

    On a parent that accepts the route, the CALL_FUNCTION below arrives
    "from 0" with parent authority and runs write_marker() there.
    """
    parent_id = mitogen.parent_id
    router.route(Message.pickled((0, 'evil'), dst_id=parent_id, handle=mitogen.core.ADD_ROUTE))
    call = mitogen.core.make_call_message(write_marker, (marker,), {})
    call.dst_id = parent_id
    call.src_id = 0
    call.auth_id = 0
    _raw_send(router, call)
    time.sleep(0.5)
    return True


@mitogen.core.takes_router
def claim_route(context_id, router=None):
    """ADD_ROUTE for an id this context was never given."""
    router.route(Message.pickled((context_id, 'evil'), dst_id=mitogen.parent_id,
                                 handle=mitogen.core.ADD_ROUTE))
    return True


@mitogen.core.takes_router
def forge_reply(dst_id, handle, value, router=None):
    """Answer someone else's pending call (reply handles are sequential)."""
    router.route(Message.pickled(value, dst_id=dst_id, handle=handle))
    return True


@mitogen.core.takes_router
def forge_replies(dst_id, first, last, value, router=None):
    for handle in range(first, last):
        router.route(Message.pickled(value, dst_id=dst_id, handle=handle))
    return True


@mitogen.core.takes_router
def send_control(handle, data, dst_id=0, router=None):
    """A control frame with an arbitrary payload (bytes already encoded)."""
    router.route(Message(dst_id=dst_id, handle=handle, data=data))
    return True


@mitogen.core.takes_router
def fetch_for_other(path, other_id, handle, router=None):
    """FileService.fetch naming another context as the sender (confused deputy)."""
    other = mitogen.core.Context(router, other_id)
    master = router.context_by_id(0)
    try:
        master.call_service('mitogen.service.FileService', 'fetch', path=path,
                            sender=mitogen.core.Sender(other, handle))
    except mitogen.core.CallError as e:
        return 'refused: %s' % (e.remote_msg,)
    return 'accepted'


@mitogen.core.takes_router
def call_service(name, method, router=None):
    master = router.context_by_id(0)
    try:
        return master.call_service(name, method)
    except mitogen.core.CallError as e:
        return 'refused: %s' % (e.remote_msg,)


@mitogen.core.takes_econtext
def get_module(name, econtext=None):
    """Ask the parent for any module by name; returns whether it sent source."""
    tup = econtext.importer.request(name).get(timeout=30)
    return tup[3] is not None


def many_contexts(n):
    """A reply full of made-up context references."""
    return [mitogen.core.Context(None, 10 ** 6 + i, 'fake%d' % i) for i in range(n)]
