"""The module_utils scan kept for the run (ansible_mitogen/controller/dep_scan.py).

Controller-side, in fresh interpreters (the scan is patched process-wide):
real modules built one after another with and without the kept scan give
the same payload (every file, in the same order, same bytes); the second
module compiles only files the first did not import; a module_utils file
edited between two builds is scanned again (its new import is in the next
payload, as under vanilla); a file that does not compile fails the build
with ansible-core's own error.  Across runs: the next interpreter's first
build reads the scans from the cache file and compiles only the files it
changed; a cache file written for another ansible-core, or damaged, is
ignored.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("ansible.executor.module_common", reason="ansible-core is needed")

SCRIPT = textwrap.dedent('''
    import base64, io, json, os, re, sys, tempfile, zipfile
    from ansible.plugins.loader import init_plugin_loader, module_loader
    import ansible.constants as C
    C.DEFAULT_LOCAL_TMP = tempfile.mkdtemp()
    init_plugin_loader([])
    from ansible.executor import module_common
    from ansible.template import Templar
    from ansible.parsing.dataloader import DataLoader
    from ansible.module_utils.common.text.converters import to_text

    kept = sys.argv[1] == "kept"
    compiled = []
    installed = False
    if kept:
        from ansible_mitogen.controller import dep_scan
        installed = dep_scan.install()
    if installed:
        original = dep_scan._original_compile
        def counting(name, source):
            compiled.append(name)
            return original(name, source)
        dep_scan._original_compile = counting
    mu_dir, modules_dir = sys.argv[2], sys.argv[3]
    module_common.module_utils_loader.add_directory(mu_dir)

    def build(name, path):
        del compiled[:]
        try:
            built = module_common.modify_module(module_name=name, module_path=path, module_args={}, templar=Templar(loader=DataLoader()),
                                                task_vars={"ansible_python_interpreter": "/usr/bin/python3"})
        except Exception as exc:
            return {"error": "%s: %s" % (type(exc).__name__, exc)}
        data = built[0] if isinstance(built, tuple) else built.b_module_data  # a tuple before 2.19
        text = to_text(data, errors="surrogate_or_strict")
        blob = max(re.findall(r"[A-Za-z0-9+/=]{1000,}", text), key=len)
        zf = zipfile.ZipFile(io.BytesIO(base64.b64decode(blob)))
        return {"files": [[i.filename, zf.read(i).decode("utf-8", "replace")] for i in zf.infolist()], "compiled": list(compiled)}

    out = []
    for step in json.loads(sys.argv[4]):
        if step[0] == "write":
            with open(step[1], "w") as fp:
                fp.write(step[2])
        else:
            path = step[1] if os.path.isabs(step[1]) else module_loader.find_plugin("ansible.builtin." + step[1])
            out.append(build(os.path.splitext(os.path.basename(path))[0], path))
    print(json.dumps({"installed": installed, "builds": out}))
''')

MINE_V1 = "import json\n"
MINE_V2 = "from ansible.module_utils.urls import fetch_url\n"
USES_MINE = "#!/usr/bin/python\nfrom ansible.module_utils.mine import json\nfrom ansible.module_utils.basic import AnsibleModule\n"


def _builds(mode: str, tmp_path, steps, cache: str = "off") -> list:
    mu_dir = tmp_path / "module_utils"
    modules = tmp_path / "library"
    mu_dir.mkdir(exist_ok=True)
    modules.mkdir(exist_ok=True)
    steps = [[step[0]] + [str(part).replace("{mu}", str(mu_dir)).replace("{lib}", str(modules)) for part in step[1:]]
             for step in steps]
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode, str(mu_dir), str(modules), json.dumps(steps)],
                         capture_output=True, text=True, env=dict(os.environ, MITOGEN_SCAN_CACHE=cache))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    if mode == "kept" and not result["installed"]:
        pytest.skip("this ansible-core's module_utils finder is not a shape dep_scan keeps (2.19 to 2.21)")
    return result["builds"]


def _both(tmp_path, steps) -> tuple:
    vanilla = _builds("vanilla", tmp_path / "vanilla", steps)
    kept = _builds("kept", tmp_path / "kept", steps)
    assert [b.get("files") or b["error"] for b in kept] == [b.get("files") or b["error"] for b in vanilla]
    return vanilla, kept


@pytest.fixture
def tmp_dirs(tmp_path):
    for mode in ("vanilla", "kept"):
        (tmp_path / mode).mkdir()
    return tmp_path


def test_payloads_equal_and_later_modules_skip_files_seen(tmp_dirs):
    vanilla, kept = _both(tmp_dirs, [["build", "command"], ["build", "copy"], ["build", "stat"]])
    assert all(len(b["files"]) > 20 for b in kept)
    first, second = kept[0]["compiled"], kept[1]["compiled"]
    assert "ansible.module_utils.basic" in first
    assert "ansible.module_utils.basic" not in second and len(second) < len(first) / 4


def test_edited_module_util_is_scanned_again(tmp_dirs):
    steps = [["write", "{mu}/mine.py", MINE_V1], ["write", "{lib}/mod_a.py", USES_MINE], ["write", "{lib}/mod_b.py", USES_MINE],
             ["build", "{lib}/mod_a.py"], ["write", "{mu}/mine.py", MINE_V2], ["build", "{lib}/mod_b.py"]]
    vanilla, kept = _both(tmp_dirs, steps)
    names = lambda build: [name for name, _ in build["files"]]  # noqa: E731
    assert "ansible/module_utils/urls.py" not in names(kept[0])
    assert "ansible/module_utils/urls.py" in names(kept[1])
    assert "ansible.module_utils.mine" in kept[1]["compiled"]


def test_file_that_does_not_compile_fails_as_under_vanilla(tmp_dirs):
    steps = [["write", "{mu}/broken.py", "def (:\n"],
             ["write", "{lib}/mod_c.py", "#!/usr/bin/python\nfrom ansible.module_utils import broken\n"],
             ["build", "command"], ["build", "{lib}/mod_c.py"], ["build", "{lib}/mod_c.py"]]
    vanilla, kept = _both(tmp_dirs, steps)
    assert "Unable to compile" in kept[1]["error"] and kept[2]["error"] == kept[1]["error"]


def test_next_run_reads_the_scans_and_rescans_what_changed(tmp_dirs):
    cache = str(tmp_dirs / "scan.json")
    steps = [["write", "{mu}/mine.py", MINE_V1], ["write", "{lib}/mod_a.py", USES_MINE], ["build", "{lib}/mod_a.py"]]
    first = _builds("kept", tmp_dirs / "kept", steps, cache)
    assert "ansible.module_utils.basic" in first[0]["compiled"]
    with open(cache) as fp:
        assert json.load(fp)["files"]

    steps[0] = ["write", "{mu}/mine.py", MINE_V2]  # changed since: scanned again, urls with it
    second = _builds("kept", tmp_dirs / "kept", steps, cache)
    vanilla = _builds("vanilla", tmp_dirs / "vanilla", steps)
    assert second[0]["files"] == vanilla[0]["files"]
    assert "ansible/module_utils/urls.py" in [name for name, _ in second[0]["files"]]
    assert "ansible.module_utils.basic" not in second[0]["compiled"]
    assert "ansible.module_utils.mine" in second[0]["compiled"]

    for damage in ('{"stamp": ["another ansible-core"], "files": [["x", false, "bytes", "00", [], []]]}', "{not json"):
        with open(cache, "w") as fp:
            fp.write(damage)
        again = _builds("kept", tmp_dirs / "kept", steps, cache)
        assert again[0]["files"] == vanilla[0]["files"]
        assert "ansible.module_utils.basic" in again[0]["compiled"]


EMBEDS = "from ansible.module_utils.embed import EmbedManager\nNOTICE = EmbedManager.embed('ansible.module_utils', 'six/__init__.py')\n"
USES_EMBEDS = "#!/usr/bin/python\nfrom ansible.module_utils import emb\nfrom ansible.module_utils.basic import AnsibleModule\n"


def test_module_util_that_embeds_a_resource_is_scanned_every_time(tmp_dirs):
    from ansible.executor import module_common

    if not hasattr(module_common, "EmbeddedResource"):
        pytest.skip("this ansible-core has no embedded resources (2.21 and later have)")
    steps = [["write", "{mu}/emb.py", EMBEDS], ["write", "{lib}/mod_a.py", USES_EMBEDS], ["write", "{lib}/mod_b.py", USES_EMBEDS],
             ["build", "{lib}/mod_a.py"], ["build", "{lib}/mod_b.py"]]
    vanilla, kept = _both(tmp_dirs, steps)
    assert "ansible/module_utils/six/__init__.py" in [name for name, _ in kept[1]["files"]]
    # what emb.py's finder holds names its own path and line: never kept;
    # the module_utils it imports are
    assert "ansible.module_utils.emb" in kept[1]["compiled"]
    assert "ansible.module_utils.basic" in kept[0]["compiled"]
    assert "ansible.module_utils.basic" not in kept[1]["compiled"]
