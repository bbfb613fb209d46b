"""Bytes of our code that travel to a target, per module; prints a table.

Runs on the controller: `.venv/bin/python bench/bench_travel.py` (starts one
test-bed target).  Which modules travel is read from a real run, not from
a list: ansible-playbook under `mitogen_linear` runs a few common tasks
(ping, command, shell, copy of a small and a 256 KiB file, setup (always
forks), async, fetch, stat, file) as the login user and with become, then a probe module reports the mitogen / ansible_mitogen modules
in the target interpreter's sys.modules (login and become contexts, a
mitogen_sudo host behind mitogen_via and that intermediary).  Per
module: raw source bytes, and the bytes as they leave the controller --
mitogen.core in the boot payload (minified, zlib 9: parent.get_core_source_z),
every other one as the import forwarder sends it (the compressed source of
the controller's ModuleResponder's LOAD_MODULE tuple); the `mitogen`
package itself is an empty module the first stage makes.  Writes
bench/results/travel-<date>-<time>.json.
"""
import importlib
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import mitogen.master  # noqa: E402
import mitogen.parent  # noqa: E402

from tests.ansible import harness  # noqa: E402
from tests.testbed import Testbed  # noqa: E402

OURS = ("mitogen", "ansible_mitogen")
# the login context imports what starting the become hop needs after the first probe
# above connection.INLINE_FILE_LIMIT: the target pulls it from the FileService
LARGE_FILE = 256 * 1024
PROBES = ("login", "become", "login after become", "behind mitogen_via", "mitogen_via intermediary")

PROBE = '''#!/usr/bin/python
from __future__ import annotations
import sys
from ansible.module_utils.basic import AnsibleModule
m = AnsibleModule(argument_spec={})
m.exit_json(changed=False, modules=sorted(n for n, mod in list(sys.modules.items())
                                          if mod is not None and n.split('.')[0] in %r))
''' % (OURS,)

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - ping:
    - command: /bin/true
    - shell: echo hi
    - copy: {content: "travel\\n", dest: /tmp/travel.txt}
    - copy: {src: "%(workdir)s/large.bin", dest: /tmp/travel-large.bin}
    - setup: {gather_subset: min}
    - command: /bin/true
      async: 20
      poll: 1
    - fetch: {src: /tmp/travel.txt, dest: "%(workdir)s/fetched"}
    - stat: {path: /tmp/travel.txt}
    - file: {path: /tmp/travel.txt, state: absent}
    - file: {path: /tmp/travel-large.bin, state: absent}
    - name: login
      travel_probe:
    - name: become
      travel_probe:
      become: true
      become_user: mitogen_user
    - name: login after become
      travel_probe:
    - add_host:
        name: behind
        ansible_connection: mitogen_sudo
        ansible_user: mitogen_user
        mitogen_via: "{{ inventory_hostname }}"
        ansible_python_interpreter: /usr/bin/python3

- hosts: behind
  gather_facts: false
  tasks:
    - command: /bin/true
    - name: behind mitogen_via
      travel_probe:

- hosts: all:!behind
  gather_facts: false
  tasks:
    - name: mitogen_via intermediary
      travel_probe:
"""


def imported_on_target(tb) -> dict:
    """{context: [module names]} from the probe tasks of one real run."""
    workdir = tempfile.mkdtemp(prefix="mitogen_bench_travel_")
    os.mkdir(os.path.join(workdir, "library"))
    with open(os.path.join(workdir, "library", "travel_probe.py"), "w") as fp:
        fp.write(PROBE)
    with open(os.path.join(workdir, "large.bin"), "wb") as fp:
        fp.write(os.urandom(LARGE_FILE))
    playbook = os.path.join(workdir, "travel.yml")
    with open(playbook, "w") as fp:
        fp.write(PLAYBOOK % {"workdir": workdir})
    out = os.path.join(workdir, "results.json")
    run = harness.run_playbook(playbook, tb.inventory, strategy=harness.MITOGEN, env={
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(harness.PLAYBOOK_DIR, "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "exec_results", "MITOGEN_EXEC_RESULTS": out})
    if run.rc != 0:
        raise SystemExit("the run failed:\n" + run.describe())
    with open(out) as fp:
        rows = json.load(fp)
    return {task: result["modules"] for _, task, _, result in rows if task in PROBES}


def sizes(names) -> list:
    """[{module, raw, sent, how}] for `names`, as the controller sends them."""
    router = mitogen.master.Router()
    try:
        rows = []
        for name in sorted(names):
            if name == "mitogen":  # an empty package the first stage makes
                rows.append(dict(module=name, raw=0, sent=0, how="first stage"))
                continue
            if name == "mitogen.core":
                with open(mitogen.core.__file__, "rb") as fp:
                    raw = len(fp.read())
                rows.append(dict(module=name, raw=raw, sent=len(mitogen.parent.get_core_source_z()), how="boot"))
                continue
            importlib.import_module(name)
            fullname, path, is_pkg, source_z, related = router.responder._build(name)
            if source_z is None:
                rows.append(dict(module=name, raw=0, sent=0, how="not sent"))
                continue
            with open(path, "rb") as fp:
                raw = len(fp.read())
            rows.append(dict(module=name, raw=raw, sent=len(source_z), how="forwarded"))
        return rows
    finally:
        router.broker.shutdown()
        router.broker.join()


def main() -> int:
    load_before = os.getloadavg()
    tb = Testbed.up(n=1)
    try:
        contexts = imported_on_target(tb)
    finally:
        tb.down()
    names = sorted(set().union(*contexts.values()))
    rows = sizes(names)
    stage1 = len(mitogen.parent.get_stage1_argument())
    width = max(len(r["module"]) for r in rows)
    lines = ["%-*s %9s %9s  %s" % (width, "module", "raw B", "sent B", "how, in which contexts")]
    for r in rows:
        where = [c for c in PROBES if r["module"] in contexts[c]]
        lines.append("%-*s %9d %9d  %s, %s" % (width, r["module"], r["raw"], r["sent"], r["how"],
                                              "all" if len(where) == len(PROBES) else "; ".join(where)))
    total_raw, total_sent = sum(r["raw"] for r in rows), sum(r["sent"] for r in rows)
    lines.append("%-*s %9d %9d  %d modules; plus the first stage on the command line: %d bytes"
                 % (width, "total", total_raw, total_sent, len(rows), stage1))
    print("\n".join(lines))
    result = dict(bench="travel", python=sys.version.split()[0], contexts=contexts, modules=rows,
                  total_raw=total_raw, total_sent=total_sent, stage1_argv_bytes=stage1,
                  output=lines, load_average_before=load_before, load_average_after=os.getloadavg())
    path = os.path.join(ROOT, "bench", "results", "travel-%s.json" % time.strftime("%Y%m%d-%H%M%S"))
    with open(path, "w") as fp:
        json.dump(result, fp, indent=1)
        fp.write("\n")
    print("wrote", os.path.relpath(path, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
