"""Builds the Debian target images `mitogen-testbed:<distro>`.

Called by `Testbed.up()` and `python -m tests.testbed images`; runs on the
controller as root.  Images come from debootstrap (minbase) plus
`docker import`, not from a registry: only the Debian mirror is reachable.
The debootstrapped rootfs is cached as a tarball, the finished image is
recognised by a recipe hash label, and an fcntl lock keeps concurrent
sessions from building the same image twice.
"""
import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
import time

from tests.testbed import cache, users

MIRROR = os.environ.get("MITOGEN_TESTBED_MIRROR", "http://deb.debian.org/debian")
DISTROS = {"bookworm": "3.11", "bullseye": "3.9", "trixie": "3.13"}
PACKAGES = ("python3", "openssh-server", "sudo", "perl")
RECIPE_VERSION = "1"  # bump when the configuration below changes
LABEL = "mitogen-testbed.recipe"

SSHD_CONFIG = """\
# Test-bed sshd: many parallel sessions, no DNS, passwords allowed for tests.
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
UsePAM yes
UseDNS no
MaxStartups 200
MaxSessions 200
X11Forwarding no
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
"""

# Keeps later apt installs inside a target as small as the image itself.
DPKG_EXCLUDES = """\
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
"""

TRIM = (
    "/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*", "/usr/share/locale/*",
    "/usr/share/lintian", "/var/cache/apt/archives/*.deb", "/var/lib/apt/lists/*",
    "/var/cache/debconf/*-old", "/var/log/*.log", "/var/log/apt/*",
)


def tag(distro: str) -> str:
    return "mitogen-testbed:%s" % distro


def recipe_hash(distro: str, public_key: str) -> str:
    text = "\n".join([RECIPE_VERSION, distro, MIRROR, " ".join(PACKAGES), public_key,
                      repr(users.ALL), users.SUDOERS, SSHD_CONFIG, DPKG_EXCLUDES])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure(distro: str = "bookworm", log=print) -> str:
    """Return the tag of an up-to-date image for `distro`, building it if needed."""
    if distro not in DISTROS:
        raise ValueError("unknown distro %r, expected one of %s" % (distro, sorted(DISTROS)))
    _, public_key = cache.key_pair()
    want = recipe_hash(distro, public_key)
    if _image_recipe(distro) == want:
        return tag(distro)
    with cache.locked("image-" + distro):
        if _image_recipe(distro) != want:  # another session may have built it meanwhile
            started = time.monotonic()
            _build(distro, public_key, want, log)
            log("testbed: built %s in %.0f s" % (tag(distro), time.monotonic() - started))
    return tag(distro)


def is_built(distro: str) -> bool:
    """True if an up-to-date image for `distro` exists (no build is started)."""
    return _image_recipe(distro) == recipe_hash(distro, cache.key_pair()[1])


def _image_recipe(distro: str) -> str:
    proc = subprocess.run(
        ["docker", "image", "inspect", "--format", '{{index .Config.Labels "%s"}}' % LABEL, tag(distro)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    return proc.stdout.strip() if proc.returncode == 0 else ""


def _build(distro: str, public_key: str, recipe: str, log) -> None:
    workdir = tempfile.mkdtemp(prefix="mitogen-testbed-build-", dir="/var/tmp")
    root = os.path.join(workdir, "root")
    try:
        _unpack_base(distro, root, log)
        _configure(root, public_key)
        log("testbed: importing %s" % tag(distro))
        tar = subprocess.Popen(["tar", "-C", root, "--numeric-owner", "-cf", "-", "."], stdout=subprocess.PIPE)
        subprocess.run(
            ["docker", "import",
             "--change", "LABEL %s=%s" % (LABEL, recipe),
             "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "--change", "ENV LANG=C.UTF-8",
             "--change", 'CMD ["/bin/bash"]',
             "-", tag(distro)],
            stdin=tar.stdout, stdout=subprocess.DEVNULL, check=True,
        )
        tar.stdout.close()
        if tar.wait() != 0:
            raise RuntimeError("tar of %s failed" % root)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _unpack_base(distro: str, root: str, log) -> None:
    """Fill `root` with a trimmed minbase system, from the cache if possible."""
    base = os.path.join(cache.cache_dir(), "base-%s-%s.tar" % (distro, _base_hash(distro)))
    os.makedirs(root)
    if not os.path.exists(base):
        log("testbed: debootstrap %s from %s (a few minutes)" % (distro, MIRROR))
        subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES), distro, root, MIRROR],
            stdout=subprocess.DEVNULL, check=True,
        )
        _trim(root)
        subprocess.run(["tar", "-C", root, "--numeric-owner", "-cf", base + ".part", "."], check=True)
        os.rename(base + ".part", base)
        return
    subprocess.run(["tar", "-C", root, "--numeric-owner", "-xpf", base], check=True)


def _base_hash(distro: str) -> str:
    text = "%s %s %s" % (distro, MIRROR, " ".join(PACKAGES))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _trim(root: str) -> None:
    subprocess.run(["sh", "-c", "rm -rf " + " ".join(root + path for path in TRIM)], check=True)
    with open(os.path.join(root, "etc/dpkg/dpkg.cfg.d/mitogen-testbed-nodoc"), "w") as fp:
        fp.write(DPKG_EXCLUDES)


def _configure(root: str, public_key: str) -> None:
    """Create the users, sudoers, keys and sshd config inside the chroot."""
    _write(root, "etc/ssh/sshd_config", SSHD_CONFIG)
    _write(root, "etc/sudoers.d/mitogen-testbed", users.SUDOERS, 0o440)
    subprocess.run(["chroot", root, "/bin/sh", "-ec", _configure_script(public_key)], check=True)


def _configure_script(public_key: str) -> str:
    lines = [
        # pam_loginuid cannot write /proc/self/loginuid inside a container.
        "sed -i 's/^session\\s\\+required\\s\\+pam_loginuid.so/session optional pam_loginuid.so/' /etc/pam.d/*",
        "rm -f /etc/ssh/ssh_host_*",
        "ssh-keygen -A",
        "rm -f /etc/motd /etc/update-motd.d/*",
    ]
    for user in users.ALL:
        home = "/root" if user.name == "root" else "/home/" + user.name
        if user.name != "root":
            lines.append("useradd -m -s %s %s" % (user.shell, user.name))
        if user.password:
            lines.append("echo %s | chpasswd" % shlex.quote("%s:%s" % (user.name, user.password)))
        else:
            lines.append("usermod -p '*' %s" % user.name)  # locked password, key still works
        lines += [
            "mkdir -p %s/.ssh" % home,
            "echo %s > %s/.ssh/authorized_keys" % (shlex.quote(public_key), home),
            "chmod 700 %s/.ssh && chmod 600 %s/.ssh/authorized_keys" % (home, home),
            "chown -R %s: %s/.ssh" % (user.name, home),
        ]
    return "\n".join(lines)


def _write(root: str, path: str, text: str, mode: int = 0o644) -> None:
    full = os.path.join(root, path)
    with open(full, "w") as fp:
        fp.write(text)
    os.chmod(full, mode)
