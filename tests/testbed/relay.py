"""Latency relay: an ssh ProxyCommand that delays and counts traffic.

Started by ssh (ProxyCommand) on the controller, one process per ssh
connection: `python3 -m tests.testbed.relay --delay-ms 9 --stats FILE HOST PORT`.
It relays stdin/stdout to HOST:PORT and holds every chunk until delay-ms
after it was read, in each direction.  Chunks are timestamped and released
in order by a separate writer, so the delay adds latency without limiting
throughput.  The kernel here has no netem, hence a user-space relay.
With --events FILE every chunk is also logged as it is read, one line
`<monotonic seconds> <up|down> <bytes>` (up: towards the target), so tests
can count the link round trips a run makes (tests/testbed/turns.py).

Self-contained (stdlib only) so it can also run by file path.
"""
import argparse
import collections
import json
import os
import resource
import signal
import socket
import sys
import threading
import time
from typing import Callable, Optional

CHUNK = 65536
STATS_INTERVAL = 1.0
EOF_GRACE = 2.0  # after stdin closes, how long to wait for the server to hang up


class Pipe:
    """One direction: a reader timestamps chunks, a writer releases them late."""

    def __init__(self, read: Callable[[], bytes], write: Callable[[bytes], None],
                 close: Callable[[], None], delay: float, done: threading.Event,
                 log: Optional[Callable[[float, int], None]] = None):
        self.read, self.write, self.close = read, write, close
        self.delay = delay
        self.done = done
        self.log = log
        self.count = 0
        self._queue = collections.deque()
        self._ready = threading.Condition()

    def start(self) -> None:
        threading.Thread(target=self._reader, daemon=True).start()
        threading.Thread(target=self._writer, daemon=True).start()

    def _reader(self) -> None:
        while True:
            try:
                data = self.read()
            except OSError:
                data = b""
            now = time.monotonic()
            if self.log and data:
                self.log(now, len(data))
            with self._ready:
                self._queue.append((now + self.delay, data))
                self._ready.notify()
            if not data:
                return

    def _writer(self) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                release, data = self._queue.popleft()
            pause = release - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if not data:
                break
            try:
                self.write(data)
            except OSError:
                break
            self.count += len(data)
        try:
            self.close()
        except OSError:
            pass
        self.done.set()


def write_stats(path: str, up: Pipe, down: Pipe, delay_ms: float) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # its own CPU, so that a benchmark can leave the relay (test equipment,
    # not the product) out of the controller CPU of a run
    stats = {"pid": os.getpid(), "delay_ms": delay_ms, "to_target": up.count, "from_target": down.count,
             "cpu_s": usage.ru_utime + usage.ru_stime}
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        with open(tmp, "w") as fp:
            json.dump(stats, fp)
        os.replace(tmp, path)
    except OSError:
        pass  # best effort: the work dir may be gone when a test bed is torn down


def _write_all(fd: int) -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    return write


def _event_log(path: Optional[str]):
    """(log_up, log_down): append one line per chunk read to `path`."""
    if not path:
        return None, None
    fp = open(path, "a", buffering=1)
    lock = threading.Lock()

    def log(direction: str) -> Callable[[float, int], None]:
        def write(when: float, size: int) -> None:
            with lock:
                fp.write("%.6f %s %d\n" % (when, direction, size))
        return write
    return log("up"), log("down")


def relay(host: str, port: int, delay_ms: float, stats_path: Optional[str],
          events_path: Optional[str] = None) -> None:
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stdin_closed, server_closed = threading.Event(), threading.Event()
    delay = delay_ms / 1000.0
    log_up, log_down = _event_log(events_path)
    up = Pipe(lambda: os.read(0, CHUNK), sock.sendall, lambda: sock.shutdown(socket.SHUT_WR),
              delay, stdin_closed, log_up)
    down = Pipe(lambda: sock.recv(CHUNK), _write_all(1), lambda: os.close(1), delay, server_closed, log_down)
    up.start()
    down.start()
    try:
        _wait(stdin_closed, server_closed, lambda: stats_path and write_stats(stats_path, up, down, delay_ms))
    finally:
        if stats_path:
            write_stats(stats_path, up, down, delay_ms)


def _wait(stdin_closed: threading.Event, server_closed: threading.Event, checkpoint: Callable) -> None:
    """Until the server hangs up, or soon after ssh closed our stdin."""
    grace_until = None
    while not server_closed.wait(STATS_INTERVAL if grace_until is None else 0.1):
        checkpoint()
        if stdin_closed.is_set():
            grace_until = grace_until or time.monotonic() + EOF_GRACE
            if time.monotonic() > grace_until:
                return


def _exit_on_signal(signum, frame) -> None:
    # ssh sends SIGHUP to its ProxyCommand on exit; unwind so stats get written.
    raise SystemExit(0)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay-ms", type=float, default=0.0, help="one-way delay added to each direction")
    parser.add_argument("--stats", help="JSON file for byte counts; {pid} is replaced by the relay's pid")
    parser.add_argument("--events", help="file to append one line per chunk read to; {pid} as for --stats")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    stats = args.stats.replace("{pid}", str(os.getpid())) if args.stats else None
    events = args.events.replace("{pid}", str(os.getpid())) if args.events else None
    for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_on_signal)
    try:
        relay(args.host, args.port, args.delay_ms, stats, events)
    except OSError as exc:
        print("relay: %s" % exc, file=sys.stderr)
        os._exit(1)
    except SystemExit:
        pass
    os._exit(0)  # reader threads may still block in read(); don't wait for them


if __name__ == "__main__":
    main()
