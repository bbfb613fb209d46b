"""The task wire protocol: what one module call and its reply carry.

Imported on both sides.  In the task worker (controller) the planner and the
action mixin build calls and read replies with it, and source_relay_chain's
SourceRelayChain finds the sources in a call; on TARGETS runner and target
read calls and build replies with it, so it travels with them (pushed ahead
of ``target.init_child``: no round trip of its own).  Python 3.8+, stdlib
only, and small: it crosses every new connection.

A call is ``target.run_module(spec)``.  The spec names the module (``kind``,
``fqn``, ``bundle``, ...) and carries JSON_PARAMS, and MANIFEST and SOURCES
when the target may lack code (or CODE_XZ: both in one xz stream, see
``module_finder.packed_code``; a target without lzma answers NEED).  The reply is ``rc``, STDOUT and STDERR, or
ASYNC for a started job, or NEED when code is missing: NEED is MANIFEST
(an unknown bundle; HAVE then lists prefixes of the digests the target
holds) or a list of missing digests, and the controller sends the spec again
with what was asked for and the FOLLOW_UP_KEYS of the first call.  A value
larger than COMPRESS_ABOVE travels compressed under its key plus ``_z``
(see packed and unpacked).
"""
import zlib

JSON_PARAMS = 'json_params'
MANIFEST = 'manifest'
SOURCES = 'sources'
CODE_XZ = 'code_xz'
NEED = 'need'
HAVE = 'have'
STDOUT = 'stdout'
STDERR = 'stderr'
ASYNC = 'async'
# Keys of the first call that a resend after a NEED reply carries again.
FOLLOW_UP_KEYS = ('async_jid', 'async_limit', 'async_dir', 'async_cmd_interpreter')
# Digests in HAVE are cut to this many characters; a collision between
# prefixes only costs one more round trip.
HAVE_PREFIX = 8

# Modules known to leave global state behind (threads, signal handlers,
# monkey patches), by short name: they always run in a forked child.
ALWAYS_FORK = frozenset((
    'dnf', 'dnf5', 'yum', 'setup', 'gather_facts', 'package_facts', 'reboot', 'async_wrapper',
))
# The spellings of one builtin module: task action and module file name.
_BUILTIN_PREFIXES = ('ansible.builtin.', 'ansible.legacy.', 'ansible.modules.')


def always_forks(name: str) -> bool:
    """Whether module `name` (short, ansible.builtin.X, ansible.legacy.X or
    the ansible.modules.X of its file) is one of ALWAYS_FORK."""
    for prefix in _BUILTIN_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return name in ALWAYS_FORK


COMPRESS_ABOVE = 400
_PACKED = '_z'

# Preset dictionary for zlib: the keys every module call and result repeat.
# Both ends must use the same bytes; changing them only costs compression
# while controller and target run the same version.
WIRE_ZDICT = (
    b'"_ansible_check_mode": false, "_ansible_no_log": false, "_ansible_debug": false, '
    b'"_ansible_diff": false, "_ansible_verbosity": 0, "_ansible_version": "2.19.0", '
    b'"_ansible_module_name": "ansible.legacy.command", "_ansible_syslog_facility": "LOG_USER", '
    b'"_ansible_selinux_special_fs": ["fuse", "nfs", "vboxsf", "ramfs", "9p", "vfat"], '
    b'"_ansible_string_conversion_action": "warn", "_ansible_socket": null, '
    b'"_ansible_shell_executable": "/bin/sh", "_ansible_keep_remote_files": false, '
    b'"_ansible_tmpdir": null, "_ansible_remote_tmp": "~/.ansible/tmp", '
    b'"_ansible_ignore_unknown_opts": false, "_ansible_target_log_info": null, '
    b'"_ansible_tracebacks_for": []}}{"ANSIBLE_MODULE_ARGS": {"_raw_params": '
    b'"changed": true, "stdout": "", "stderr": "", "rc": 0, "cmd": ["", "start": "2026-01-01 00:00:00.000000", '
    b'"end": "2026-01-01 00:00:00.000000", "delta": "0:00:00.000000", "msg": "", '
    b'"invocation": {"module_args": {"_raw_params": "", "_uses_shell": false, '
    b'"expand_argument_vars": true, "stdin_add_newline": true, "strip_empty_ends": true, '
    b'"cmd": null, "argv": null, "chdir": null, "executable": null, "creates": null, '
    b'"removes": null, "stdin": null, "path": "", "state": "file", "mode": null, "owner": null}}}'
)


def compress(data: bytes) -> bytes:
    """zlib with WIRE_ZDICT, its window and hash sized to the data.

    A 32 KB window and memLevel 9 make zlib allocate and clear ~400 KB per
    stream, above malloc's mmap threshold: 0.05-3 ms per call (page faults,
    more on a loaded host) for messages of a few hundred bytes.  A window
    that holds the dictionary and the data compresses them as well
    (decompress()'s window of 15 bits reads any smaller one).
    """
    wbits = min(15, max(12, (len(data) + len(WIRE_ZDICT) + 262).bit_length()))
    comp = zlib.compressobj(9, zlib.DEFLATED, wbits, min(8, wbits - 7), zlib.Z_DEFAULT_STRATEGY, WIRE_ZDICT)
    return comp.compress(data) + comp.flush()


def decompress(data: bytes) -> bytes:
    decomp = zlib.decompressobj(15, WIRE_ZDICT)
    return decomp.decompress(data) + decomp.flush()


def packed(message: dict, *keys: str) -> dict:
    """`message` with each bytes value of `keys` above COMPRESS_ABOVE
    compressed under key + '_z' (a copy if any is)."""
    big = [k for k in keys if isinstance(message.get(k), bytes) and len(message[k]) > COMPRESS_ABOVE]
    if not big:
        return message
    message = dict(message)
    for key in big:
        message[key + _PACKED] = compress(message.pop(key))
    return message


def unpacked(message: dict, *keys: str) -> dict:
    """`message` with `keys` as packed() found them (a copy if any was packed)."""
    found = [k for k in keys if k + _PACKED in message]
    if not found:
        return message
    message = dict(message)
    for key in found:
        message[key] = decompress(message.pop(key + _PACKED))
    return message
