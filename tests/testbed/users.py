"""Accounts baked into every test-bed target image.

Read by the image builder (to create them) and by tests of every engineer
(to log in, sudo, su).  Runs on the controller only.  The table in
docs/HACKING.md is the contract; keep both in sync.
"""
from typing import NamedTuple, Optional, Tuple


class User(NamedTuple):
    name: str
    password: Optional[str]
    shell: str = "/bin/bash"


ROOT = User("root", "rootpw")
UNPRIVILEGED = User("mitogen_user", "userpw")
SUDO_NOPW = User("mitogen_sudo_nopw", "nopwpw")
SUDO_PW = User("mitogen_sudo_pw", "sudopw")
SUDO_TTY = User("mitogen_sudo_tty", "ttypw")
SU = User("mitogen_su", "supw")
NOLOGIN = User("mitogen_nologin", None, "/usr/sbin/nologin")

ALL: Tuple[User, ...] = (ROOT, UNPRIVILEGED, SUDO_NOPW, SUDO_PW, SUDO_TTY, SU, NOLOGIN)

# Lines installed as /etc/sudoers.d/mitogen-testbed.
SUDOERS = (
    "%s ALL=(ALL:ALL) NOPASSWD: ALL\n" % SUDO_NOPW.name
    + "%s ALL=(ALL:ALL) ALL\n" % SUDO_PW.name
    + "Defaults:%s requiretty\n" % SUDO_TTY.name
    + "%s ALL=(ALL:ALL) NOPASSWD: ALL\n" % SUDO_TTY.name
)


def password(name: str) -> Optional[str]:
    """Password of the test-bed user `name` (KeyError if unknown)."""
    for user in ALL:
        if user.name == name:
            return user.password
    raise KeyError(name)
