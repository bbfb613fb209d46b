"""Image variants: the plain test-bed image with one configuration changed.

Runs on the controller; used by tests that need a target configured like
some real fleets are (tests/ansible/test_parity*.py).  A variant starts
from `mitogen-testbed:<distro>`, writes its files into a container and is
committed as `mitogen-testbed:<distro>-<variant>`, rebuilt only when its
recipe label (base image id + files) changes, under a file lock so
concurrent sessions build it once.  The plain images stay as they are.
"""
import hashlib
import subprocess
import uuid
from typing import Dict

from tests.testbed import bed, cache, image

LABEL = "mitogen-testbed.variant"

# variant -> {path inside the image: content}.
VARIANTS: Dict[str, Dict[str, str]] = {
    # sudo I/O logging (audited fleets), beside Debian's own `Defaults use_pty`.
    "log_output": {"/etc/sudoers.d/zz-log-output": "Defaults log_output\n"},
}


def tag(distro: str, variant: str) -> str:
    return "%s-%s" % (image.tag(distro), variant)


def _docker(*argv: str, check: bool = True) -> str:
    proc = subprocess.run(("docker",) + argv, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError("docker %s failed: %s" % (" ".join(argv[:2]), proc.stderr.strip()))
    return proc.stdout.strip()


def _recipe(base_tag: str, variant: str) -> str:
    base_id = _docker("image", "inspect", "--format", "{{.Id}}", base_tag)
    files = VARIANTS[variant]
    text = "\n".join([base_id, variant] + ["%s\n%s" % (path, files[path]) for path in sorted(files)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _build(base_tag: str, distro: str, variant: str, recipe: str) -> None:
    name = "mitogen-variant-build-%s" % uuid.uuid4().hex[:8]
    _docker("run", "-d", "--network", "none", "--name", name, base_tag, "sleep", "infinity")
    try:
        for path, text in sorted(VARIANTS[variant].items()):
            proc = subprocess.run(
                ["docker", "exec", "-i", name, "sh", "-ec", 'cat > "$1" && chmod 0440 "$1"', "sh", path],
                input=text, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError("writing %s into %s failed: %s" % (path, name, proc.stderr))
        check = subprocess.run(["docker", "exec", name, "visudo", "-c"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError("sudoers of variant %s is invalid: %s" % (variant, check.stdout + check.stderr))
        _docker("commit", "--change", "LABEL %s=%s" % (LABEL, recipe), "--change", 'CMD ["/bin/bash"]',
                name, tag(distro, variant))
    finally:
        _docker("rm", "-f", name, check=False)


def ensure(distro: str, variant: str, log=print) -> str:
    """Tag of the variant image, built if missing or stale."""
    base_tag = image.ensure(distro, log=log)
    want = _recipe(base_tag, variant)
    label = '{{index .Config.Labels "%s"}}' % LABEL
    with cache.locked("variant-%s-%s" % (distro, variant)):
        if _docker("image", "inspect", "--format", label, tag(distro, variant), check=False) != want:
            log("testbed: building %s" % tag(distro, variant))
            _build(base_tag, distro, variant, want)
    return tag(distro, variant)


class VariantTestbed(bed.Testbed):
    """A Testbed whose targets run a variant image (set `variant`)."""

    __test__ = False
    variant = ""

    def _start(self, tag: str, indices: range) -> None:
        super()._start(ensure(self.distro, self.variant), indices)


def up(variant: str, n: int = 1, distro: str = "bookworm", **kwargs) -> bed.Testbed:
    """Start n targets of `variant` (see tests.testbed.Testbed.up)."""
    cls = type("%sTestbed" % variant.title().replace("_", ""), (VariantTestbed,), {"variant": variant})
    return cls.up(n=n, distro=distro, **kwargs)
