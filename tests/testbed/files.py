"""Writes the ssh_config and Ansible INI inventory describing a `Testbed`.

Called by `Testbed`; runs on the controller.  The files live in the
testbed's work dir so people can use them by hand:
`ssh -F WORKDIR/ssh_config target-0`, `ansible -i WORKDIR/inventory.ini all -m ping`.
"""
import shlex
from typing import List

SSH_OPTIONS = (
    ("IdentitiesOnly", "yes"),
    ("StrictHostKeyChecking", "no"),
    ("UserKnownHostsFile", "/dev/null"),
    ("LogLevel", "ERROR"),
)


def write_ssh_config(tb) -> None:
    blocks = []
    for t in tb.targets:
        lines = ["Host %s" % t.name, "  HostName %s" % t.host, "  Port %d" % t.port,
                 "  IdentityFile %s" % tb.private_key]
        lines += ["  %s %s" % option for option in SSH_OPTIONS]
        proxy = tb.proxy_command(t)
        if proxy:
            lines.append("  ProxyCommand %s" % proxy)
        blocks.append("\n".join(lines))
    _write(tb.ssh_config, "\n\n".join(blocks))


def write_inventory(tb) -> None:
    lines = ["[targets]"]
    for t in tb.targets:
        lines.append(" ".join([t.name] + ["%s=%s" % pair for pair in _host_vars(tb, t)]))
    _write(tb.inventory, "\n".join(lines))


def _host_vars(tb, t) -> List[tuple]:
    common = ["-o %s=%s" % option for option in SSH_OPTIONS]
    proxy = tb.proxy_command(t)
    if proxy:
        common.append(shlex.join(["-o", "ProxyCommand=" + proxy]))
    return [
        ("ansible_host", t.host),
        ("ansible_port", str(t.port)),
        ("ansible_user", "root"),
        ("ansible_ssh_private_key_file", tb.private_key),
        ("ansible_python_interpreter", t.python),
        ("ansible_host_key_checking", "false"),
        ("ansible_ssh_common_args", shlex.quote(" ".join(common))),
    ]


def _write(path: str, text: str) -> None:
    with open(path, "w") as fp:
        fp.write(text + "\n")
