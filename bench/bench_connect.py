"""Connect time to many ssh targets in parallel; prints numbers.

Runs on the controller: `.venv/bin/python bench/bench_connect.py [N]`
(default 50).  Starts N test-bed targets, then times one router.ssh() per
target, all started at once from N threads (each connection attempt drives
its own boot from its calling thread), until every child answered a call
[target: 50 targets < 5 s].  Also prints the single-target connect time.
"""
import concurrent.futures
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mitogen.master  # noqa: E402


#: Optional variant: classic key exchange instead of OpenSSH 9's default
#: sntrup761x25519 hybrid, whose key generation costs the client ~65 ms CPU
#: per connection on this machine.  Not a default of the ssh method (it
#: drops the post-quantum part); shown so users can weigh it.
CLASSIC_KEX = ['-o', 'KexAlgorithms=curve25519-sha256']


def ssh_kwargs(tb, t, ssh_args=()):
    return dict(hostname=t.host, port=t.port, username='root', identity_file=tb.private_key,
                check_host_keys='ignore', python_path=t.python, connect_timeout=60, ssh_args=list(ssh_args))


def cpu_seconds():
    """CPU used by this process and its reaped children (ssh clients) so far."""
    import resource
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def load_average():
    with open('/proc/loadavg') as fp:
        return fp.read().split()[:3]


def connect_one(router, kwargs):
    t0 = time.perf_counter()
    ctx = router.ssh(**kwargs)
    ctx.call(os.getpid)
    return time.perf_counter() - t0, ctx


def connect_all(router, tb, ssh_args=()):
    with concurrent.futures.ThreadPoolExecutor(len(tb.targets)) as pool:
        t0 = time.perf_counter()
        futures = [pool.submit(connect_one, router, ssh_kwargs(tb, t, ssh_args)) for t in tb.targets]
        results = [f.result() for f in futures]
        total = time.perf_counter() - t0
    return total, [r[0] for r in results], [r[1] for r in results]


def main():
    from tests.testbed import Testbed
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    # Other work on the machine inflates every number below: say how much.
    print('load average before starting: %s' % ' '.join(load_average()))
    t0 = time.perf_counter()
    tb = Testbed.up(n=n)
    print('started %d targets in %.1f s' % (n, time.perf_counter() - t0))
    try:
        router = mitogen.master.Router()
        try:
            single = [connect_one(router, ssh_kwargs(tb, tb.targets[0]))[0] for _ in range(3)]
            print('single ssh connect + first call: median %.0f ms of 3' % (statistics.median(single) * 1e3))
            for label, ssh_args in (('default ssh settings', ()), ('KexAlgorithms=curve25519-sha256', CLASSIC_KEX)):
                total, each, contexts = connect_all(router, tb, ssh_args)
                print('%d ssh targets connected in parallel (%s): %.2f s total [target < 5 s]; per connection '
                      'median %.2f s, max %.2f s' % (n, label, total, statistics.median(each), max(each)))
                for ctx in contexts:
                    ctx.shutdown(wait=True)
                own, kids = cpu_seconds()
                print('  CPU so far: controller process %.2f s, ssh clients %.2f s; load average %s'
                      % (own, kids, ' '.join(load_average())))
        finally:
            router.broker.shutdown()
            router.broker.join()
    finally:
        tb.down()


if __name__ == '__main__':
    main()
