"""Benchmarks of the core library against real local children; prints numbers.

Runs on the controller: `.venv/bin/python bench/bench_core.py`.
Measures (targets in brackets): no-op call() round trip [<= 150 us median],
FileService throughput to a local child [>= 200 MB/s], and round trips and
bytes needed to import a generated 100-module package in a child [<= 10].
"""
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mitogen.core  # noqa: E402
import mitogen.master  # noqa: E402
import mitogen.service  # noqa: E402


def noop():
    return None


def child_fetch(path):
    """In the child: fetch path from the master, discard the data, return seconds."""
    class Null(object):
        def write(self, data):
            pass
    t0 = time.perf_counter()
    router = mitogen._econtext.router
    mitogen.service.FileService.get(router.context_by_id(0), path, Null())
    return time.perf_counter() - t0


def child_import(name):
    t0 = time.perf_counter()
    __import__(name)
    return time.perf_counter() - t0, mitogen._econtext.importer.get_module_requests


def bench_round_trip(router, batches=30, per_batch=200):
    ctx = router.local()
    for _ in range(200):
        ctx.call(noop)
    medians = []
    for _ in range(batches):
        samples = []
        for _ in range(per_batch):
            t0 = time.perf_counter()
            ctx.call(noop)
            samples.append(time.perf_counter() - t0)
        medians.append(statistics.median(samples))
    return statistics.median(medians) * 1e6, min(medians) * 1e6


def bench_transfer(router, size=200 * 1024 * 1024):
    svc = mitogen.service.FileService(router)
    pool = mitogen.service.Pool(router, services=[svc], size=2)
    fd, path = tempfile.mkstemp(prefix='mitogen_bench_')
    try:
        block = os.urandom(1 << 20)
        with os.fdopen(fd, 'wb') as fp:
            for _ in range(size >> 20):
                fp.write(block)
        svc.register(path)
        ctx = router.local()
        ctx.call(child_fetch, path)   # warm up: imports, page cache
        secs = min(ctx.call(child_fetch, path) for _ in range(3))
        return size / secs / 1e6
    finally:
        pool.stop()
        os.unlink(path)


def make_package(root, name, subpackages=10, modules=9):
    """name/ with `subpackages` subpackages of `modules` modules each (100 modules)."""
    pkg = os.path.join(root, name)
    os.mkdir(pkg)
    subs = ['sub%d' % i for i in range(subpackages)]
    with open(os.path.join(pkg, '__init__.py'), 'w') as fp:
        fp.write(''.join('from . import %s\n' % s for s in subs))
    for s in subs:
        os.mkdir(os.path.join(pkg, s))
        mods = ['mod%d' % i for i in range(modules)]
        with open(os.path.join(pkg, s, '__init__.py'), 'w') as fp:
            fp.write(''.join('from . import %s\n' % m for m in mods))
        for i, m in enumerate(mods):
            with open(os.path.join(pkg, s, m + '.py'), 'w') as fp:
                fp.write('import os\nimport json\n')
                if i:
                    fp.write('from . import mod%d\n' % (i - 1))
                fp.write('"""%s"""\n' % ('filler text ' * 40))
                fp.write(''.join('def f%d(x):\n    return x + %d\n' % (j, j) for j in range(20)))
    return 1 + subpackages * (1 + modules)


def bench_import(router):
    root = tempfile.mkdtemp(prefix='mitogen_bench_pkg_')
    count = make_package(root, 'mitogen_benchpkg')
    sys.path.insert(0, root)
    __import__('mitogen_benchpkg')
    ctx = router.local()
    ctx.call(noop)
    stream = router.stream_by_id(ctx.context_id)
    _, before = ctx.call(child_import, 'json')
    tx0, rx0 = stream.tx_bytes, stream.rx_bytes
    secs, after = ctx.call(child_import, 'mitogen_benchpkg')
    return count, after - before, stream.tx_bytes - tx0, stream.rx_bytes - rx0, secs


def main():
    router = mitogen.master.Router()
    try:
        med, best = bench_round_trip(router)
        print('round trip of no-op call(): median %.1f us (best batch median %.1f us) [target <= 150 us]'
              % (med, best))
        mbs = bench_transfer(router)
        print('FileService throughput to local child: %.0f MB/s [target >= 200 MB/s]' % mbs)
        count, trips, tx, rx, secs = bench_import(router)
        print('import of a %d-module package: %d round trip(s), %d bytes sent, %d bytes received, '
              '%.1f ms [target <= 10 round trips]' % (count, trips, tx, rx, secs * 1e3))
    finally:
        router.broker.shutdown()
        router.broker.join()


if __name__ == '__main__':
    main()
