"""Import forwarding and file transfer over ssh through the latency relay; prints numbers.

Runs on the controller: `.venv/bin/python bench/bench_import.py` (starts one
test-bed target).  The ssh child is reached through the test bed's relay as
ProxyCommand (9 ms each way, so one round trip costs >= 18 ms).  Measures:
round trips (GET_MODULE requests) and bytes -- on the wire from the relay's
stats file, and in mitogen frames -- to import a generated 100-module
pure-Python package that exists only on the controller [<= 10 round trips];
FileService throughput to the ssh child, direct and through the relay,
next to plain ssh piping the same amount of data as a baseline.
"""
import glob
import json
import os
import shlex
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import mitogen  # noqa: E402
import mitogen.core  # noqa: E402
import mitogen.master  # noqa: E402
import mitogen.service  # noqa: E402

DELAY_MS = 9
PACKAGE = 'mitogen_benchpkg'
TRANSFER_BYTES = 64 * 1024 * 1024


def noop():
    return None


def child_import(name):
    """In the child: import `name`; (seconds, GET_MODULE requests so far)."""
    t0 = time.perf_counter()
    __import__(name)
    return time.perf_counter() - t0, mitogen._econtext.importer.get_module_requests


def child_fetch(path):
    """In the child: fetch `path` from the master into nothing; seconds taken."""
    class Null(object):
        def write(self, data):
            pass
    t0 = time.perf_counter()
    mitogen.service.FileService.get(mitogen._econtext.router.context_by_id(0), path, Null())
    return time.perf_counter() - t0


def relay_bytes(pattern, since):
    """(to_target, from_target) of the newest relay stats file written after `since`."""
    deadline = time.time() + 5
    while time.time() < deadline:
        files = [p for p in glob.glob(pattern) if os.path.getmtime(p) > since]
        if files:
            with open(max(files, key=os.path.getmtime)) as fp:
                stats = json.load(fp)
            return stats['to_target'], stats['from_target']
        time.sleep(0.2)
    raise RuntimeError('relay stats not refreshed in %s' % (pattern,))


def bench_import(router, kwargs, workdir):
    sys.path.insert(0, os.path.join(ROOT, 'bench'))
    from bench_core import make_package
    pkgroot = tempfile.mkdtemp(prefix='mitogen_bench_pkg_', dir=workdir)
    count = make_package(pkgroot, PACKAGE)
    sys.path.insert(0, pkgroot)
    __import__(PACKAGE)
    stats = os.path.join(workdir, 'relay-{pid}.json')
    ctx = router.ssh(ssh_args=['-o', 'ProxyCommand=' + shlex.join(kwargs.pop('relay_argv')(stats))], **kwargs)
    _, before = ctx.call(child_import, 'json')
    stream = router.stream_by_id(ctx.context_id)
    time.sleep(1.2)   # let the relay write a checkpoint that excludes the boot
    wire0 = relay_bytes(stats.replace('{pid}', '*'), time.time() - 1.1)
    tx0, rx0 = stream.tx_bytes, stream.rx_bytes
    t0 = time.time()
    secs, after = ctx.call(child_import, PACKAGE)
    wall = time.time() - t0
    wire1 = relay_bytes(stats.replace('{pid}', '*'), time.time() + 0.01)
    ctx.shutdown()
    return {'modules': count, 'round_trips': after - before, 'secs': secs, 'wall': wall,
            'frame_tx': stream.tx_bytes - tx0, 'frame_rx': stream.rx_bytes - rx0,
            'wire_to_target': wire1[0] - wire0[0], 'wire_from_target': wire1[1] - wire0[1]}


def bench_transfer(router, ssh_kwargs, workdir):
    fd, path = tempfile.mkstemp(prefix='mitogen_bench_xfer_', dir=workdir)
    with os.fdopen(fd, 'wb') as fp:
        block = os.urandom(1 << 20)
        for _ in range(TRANSFER_BYTES >> 20):
            fp.write(block)
    svc = mitogen.service.FileService(router)
    pool = mitogen.service.Pool(router, services=[svc], size=2)
    svc.register(path)
    results = {}
    try:
        for label, kwargs in ssh_kwargs:
            ctx = router.ssh(**kwargs)
            ctx.call(child_fetch, path)   # warm-up: imports, page cache
            results[label] = TRANSFER_BYTES / min(ctx.call(child_fetch, path) for _ in range(2)) / 1e6
            ctx.shutdown()
    finally:
        pool.stop()
    return results


def raw_ssh_throughput(kwargs, compression):
    """Baseline: the same bytes piped through plain `ssh host 'cat >/dev/null'`."""
    import subprocess
    from mitogen.ssh import Options, build_ssh_argv
    argv = build_ssh_argv(Options(**dict(kwargs, compression=compression)), 'cat >/dev/null')
    data = os.urandom(TRANSFER_BYTES)
    t0 = time.perf_counter()
    subprocess.run(argv, input=data, check=True)
    return TRANSFER_BYTES / (time.perf_counter() - t0) / 1e6


def main():
    from tests.testbed import Testbed
    workdir = tempfile.mkdtemp(prefix='mitogen_bench_import_')
    tb = Testbed.up(n=1)
    router = mitogen.master.Router()
    try:
        t = tb.targets[0]
        base = dict(hostname=t.host, port=t.port, username='root', identity_file=tb.private_key,
                    check_host_keys='ignore', python_path=t.python)
        r = bench_import(router, dict(base, relay_argv=lambda stats: tb.relay_argv(t, DELAY_MS, stats)), workdir)
        print('import of a %d-module package over ssh via the relay (%d ms each way): %d round trip(s) '
              '[target <= 10], %.0f ms in the child (%.0f ms wall); wire bytes %d to target, %d from target; '
              'mitogen frames %d bytes sent, %d received'
              % (r['modules'], DELAY_MS, r['round_trips'], r['secs'] * 1e3, r['wall'] * 1e3,
                 r['wire_to_target'], r['wire_from_target'], r['frame_tx'], r['frame_rx']))
        relay = ['-o', 'ProxyCommand=' + shlex.join(tb.relay_argv(t, DELAY_MS, os.path.join(workdir, 'x-{pid}')))]
        mbs = bench_transfer(router, [('direct', base), ('plain', dict(base, compression=False)),
                                      ('relay', dict(base, ssh_args=relay))], workdir)
        print('FileService throughput of %d MiB (random data) to an ssh child: %.0f MB/s direct '
              '(ssh compression on, the default), %.0f MB/s with compression=False, %.0f MB/s through the '
              'relay (%d ms each way, compression on)'
              % (TRANSFER_BYTES >> 20, mbs['direct'], mbs['plain'], mbs['relay'], DELAY_MS))
        print('baseline, plain ssh piping the same bytes into cat (includes the ssh handshake): '
              '%.0f MB/s with compression, %.0f MB/s without'
              % (raw_ssh_throughput(base, True), raw_ssh_throughput(base, False)))
    finally:
        router.broker.shutdown()
        router.broker.join()
        tb.down()


if __name__ == '__main__':
    main()
