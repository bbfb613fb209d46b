"""`make demo`: the demo playbook under vanilla Ansible, then under mitogen_linear.

Runs on the controller (localhost is also the target).  Prints both wall
times and the speed-up.  The mitogen half turns on by itself once the
installed ansible_mitogen ships plugins/strategy/mitogen_linear.py; until
then it says that the strategy is missing.
"""
import os
import subprocess
import sys
import tempfile
import time
from typing import Dict, Optional

DEMO_DIR = os.path.dirname(os.path.abspath(__file__))
PLAYBOOK = os.path.join(DEMO_DIR, "site.yml")
STRATEGY = "mitogen_linear"


def strategy_dir() -> Optional[str]:
    """Where the installed package keeps its strategy plugins, or None."""
    proc = subprocess.run([sys.executable, "-m", "ansible_mitogen"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
    lines = proc.stdout.splitlines()
    if proc.returncode == 0 and lines and os.path.isdir(lines[0].strip()):
        return lines[0].strip()
    try:
        import ansible_mitogen
    except ImportError:
        return None
    return os.path.join(os.path.dirname(ansible_mitogen.__file__), "plugins", "strategy")


def run_playbook(workdir: str, label: str, env: Dict[str, str]) -> float:
    inventory = os.path.join(workdir, "inventory.ini")
    with open(inventory, "w") as fp:
        fp.write("[demo]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    playbook_bin = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    cmd = [playbook_bin, "-i", inventory, PLAYBOOK, "-e", "demo_dir=%s" % os.path.join(workdir, label)]
    print("==> %s: %s" % (label, " ".join(cmd)), flush=True)
    started = time.monotonic()
    proc = subprocess.run(cmd, env=dict(os.environ, ANSIBLE_NOCOLOR="1", **env), cwd=DEMO_DIR,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    elapsed = time.monotonic() - started
    recap = proc.stdout[proc.stdout.rfind("PLAY RECAP"):]
    print(recap.strip() or proc.stdout[-3000:])
    if proc.returncode != 0:
        print(proc.stdout[-6000:])
        raise SystemExit("%s run failed with exit code %d" % (label, proc.returncode))
    print("==> %s: %.2f s" % (label, elapsed), flush=True)
    return elapsed


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="mitogen-demo-") as workdir:
        vanilla = run_playbook(workdir, "vanilla", {"ANSIBLE_STRATEGY": "linear"})
        plugins = strategy_dir()
        if not plugins or not os.path.exists(os.path.join(plugins, STRATEGY + ".py")):
            print("==> %s: strategy is missing (not in the installed ansible_mitogen yet); "
                  "vanilla took %.2f s" % (STRATEGY, vanilla))
            return 0
        env = {"ANSIBLE_STRATEGY_PLUGINS": plugins, "ANSIBLE_STRATEGY": STRATEGY}
        accelerated = run_playbook(workdir, STRATEGY, env)
    print("\nvanilla (linear, connection local): %6.2f s" % vanilla)
    print("%-35s %6.2f s" % (STRATEGY + " (mitogen_local):", accelerated))
    print("speed-up: %.2fx" % (vanilla / accelerated))
    return 0


if __name__ == "__main__":
    sys.exit(main())
