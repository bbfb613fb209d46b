"""Link round trips counted from the latency relay's event log.

Read on the controller by tests and benchmarks, after a run whose ssh
connections went through `relay.py --events FILE`.  Each line of FILE is
`<monotonic seconds> <up|down> <bytes>`: a chunk the relay read from ssh
(up, towards the target) or from sshd (down).  The relay holds every chunk
for `delay` seconds, so a down chunk read at `t` reaches the controller at
`t + delay`.

A round trip is an exchange: the controller sent something and then waited
for the first thing that reached it back.  In the controller-side sequence
of events (ups when sent, downs when they arrive) that is an up-to-down
transition where the down arrives at least one round trip (2 x delay)
after the last up: an answer to the last thing sent.  A down arriving
sooner answers something older while the controller is still sending (ssh
window adjustments during an upload) and makes it wait for nothing.
Pipelined messages (several ups before the answer) make one exchange; a
target that must ask back (an import request) before it answers makes two.  CLOCK_MONOTONIC is shared by all processes of the
machine, so the exchanges can be attributed to time windows taken in other
processes (task starts in $MITOGEN_EXEC_TRACE).
"""
import bisect
import glob
from typing import Dict, Iterable, List, NamedTuple, Sequence, Tuple


# Both times of a round trip are taken by the relay (read, then released
# `delay` later): only timer granularity can make it look shorter.
SLACK = 0.95


class Event(NamedTuple):
    when: float
    direction: str  # "up" or "down"
    size: int


def read_events(paths: Iterable[str]) -> List[Event]:
    """Events of every file in `paths` (globs allowed), sorted by time."""
    events: List[Event] = []
    for pattern in paths:
        for path in glob.glob(pattern):
            with open(path) as fp:
                for line in fp:
                    when, direction, size = line.split()
                    events.append(Event(float(when), direction, int(size)))
    events.sort()
    return events


def exchanges(events: Sequence[Event], delay: float) -> List[float]:
    """Controller-side arrival time of the first answer of each exchange.

    One connection's events (the turn-taking of two connections is not
    ordered); `delay` is the relay's one-way delay in seconds.
    """
    seen = sorted((e.when + delay, 1) if e.direction == "down" else (e.when, 0) for e in events)
    out: List[float] = []
    last_up = None
    for when, arriving in seen:
        if not arriving:
            last_up = when
        elif last_up is not None and when - last_up >= 2 * delay * SLACK:
            out.append(when)
            last_up = None
    return out


def per_window(arrivals: Sequence[float], starts: Sequence[Tuple[float, str]]) -> Dict[str, int]:
    """{window name: exchanges arriving in it}; a window runs from its start
    to the next one's (the last one to the end of the log)."""
    counts: Dict[str, int] = {}
    times = [when for when, _ in starts]
    for when in arrivals:
        index = bisect.bisect_right(times, when) - 1
        if index >= 0:
            name = starts[index][1]
            counts[name] = counts.get(name, 0) + 1
    for _, name in starts:
        counts.setdefault(name, 0)
    return counts
