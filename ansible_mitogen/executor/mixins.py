"""ActionModuleMixin: the action-plugin execution path over Mitogen contexts.

Runs in the task worker (controller).  ``ansible_mitogen.controller.loaders`` mixes it
in front of every action plugin class that is built for one of our
connections.  It replaces the ``ActionBase`` methods that would otherwise
run shell snippets over the connection (module execution, temp dirs, file
transfer, ``~`` expansion, permission fixups) with single calls into
``ansible_mitogen.remote.target`` through the connection's call chain, while
keeping vanilla's argument handling and result processing so output is
identical.
"""
import collections
import functools
import inspect
import json
import logging
import os
import secrets
import time
from typing import Any, Dict, List, Optional

from ansible import constants as C
from ansible.errors import AnsibleConnectionFailure
from ansible.release import __version__ as ansible_version
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.utils.display import Display

try:
    from ansible.vars.clean import remove_internal_keys
except ImportError:  # ansible-core >= 2.21: results are UnifiedTaskResult objects
    remove_internal_keys = None

import mitogen.core

from ansible_mitogen.executor import build_cache, planner, transport_config
from ansible_mitogen.remote import runner, target, task_wire
from ansible_mitogen.executor.connection import BecomeFailed, InterpreterMissing, replacing

LOG = logging.getLogger(__name__)
display = Display()


def masked_args(module_args: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """Module arguments for a debug line: vanilla prints their values, no_log
    ones included; we print the names (secrets never reach a log of ours)."""
    return {key: value if key.startswith('_ansible_') else transport_config.MASKED
            for key, value in (module_args or {}).items()}


# Files up to this size travel inside one call; bigger ones stream through
# the connection's put_file (FileService).
SMALL_FILE_LIMIT = 512 * 1024
# ansible-core < 2.19 writes a dict given to _transfer_data as JSON.
DICT_DATA_AS_JSON = tuple(int(part) for part in ansible_version.split('.')[:2]) < (2, 19)
# fetch reads files back in chunks of this size, this many in flight.
FETCH_CHUNK = 1024 * 1024
FETCH_WINDOW = 4


def _is_fetch_action(action: Any) -> bool:
    return any(klass.__module__ == 'ansible.plugins.action.fetch' for klass in type(action).__mro__)


def stream_fetch(connection: Any, in_path: str, out_path: str) -> None:
    """Copy a target file to the controller in pipelined 1 MiB chunks.

    Up to FETCH_WINDOW reads are in flight, so a large file costs about
    size / (chunk * window) round trips and never sits whole in memory.
    """
    chain = connection.get_chain()
    info = chain.call(target.stat_path, in_path, True)
    if info is None or info['isdir']:
        from ansible.errors import AnsibleFileNotFound
        raise AnsibleFileNotFound('file or module does not exist: %s' % in_path)
    offsets = list(range(0, info['size'], FETCH_CHUNK))
    with replacing(out_path) as fp:
        pending = collections.deque()
        for offset in offsets:
            pending.append(chain.call_async(target.read_chunk, in_path, offset, FETCH_CHUNK))
            if len(pending) >= FETCH_WINDOW:
                fp.write(_receive(connection, pending.popleft()))
        while pending:
            fp.write(_receive(connection, pending.popleft()))


def _receive(connection: Any, receiver: Any) -> bytes:
    try:
        return bytes(receiver.get().unpickle())
    finally:
        try:
            connection.context.router.del_handler(receiver.handle)
        except Exception:
            pass


def _vanilla_ssh_connection(action: Any) -> Any:
    """ansible-core's ssh connection, configured like TaskExecutor would."""
    from ansible.plugins.loader import connection_loader

    get = connection_loader.get_with_context
    get = getattr(get, '__wrapped__', get)  # skip our ssh -> mitogen_ssh redirect
    conn = get('ansible.builtin.ssh', action._play_context, None)[0]
    variables = getattr(action, '_mitogen_task_vars', None) or {}
    task_keys = action._task.dump_attrs()
    task_keys['timeout'] = action._play_context.timeout
    task_keys.pop('retries', None)
    if action._play_context.password:
        task_keys['password'] = action._play_context.password
    resolve = getattr(conn, '_resolve_option_variables', None)
    if resolve is not None:
        var_options = resolve(variables, action._templar)
    else:  # ansible-core < 2.18
        names = C.config.get_plugin_vars('connection', conn._load_name)
        var_options = {k: action._templar.template(variables[k]) for k in names if k in variables}
    conn.set_options(task_keys=task_keys, var_options=var_options)
    become = action._connection.become
    if become is not None:
        conn.set_become_plugin(become)
    return conn


def _takes_arg(func: Any, name: str) -> bool:
    """Whether ansible-core's `func` has parameter `name` (2.17-2.19 differ)."""
    return _takes_arg_cached(getattr(func, '__func__', func), name)


@functools.lru_cache(maxsize=None)
def _takes_arg_cached(func: Any, name: str) -> bool:
    # inspect.signature() costs about 0.5 ms, twice per task otherwise
    return name in inspect.signature(func).parameters


class ActionModuleMixin(object):
    """Overrides of ActionBase methods; everything else stays vanilla."""

    # -- plumbing ---------------------------------------------------------

    def _mitogen_chain(self, use_login: bool = False, use_fork: bool = False) -> Any:
        return self._connection.get_chain(use_login=use_login, use_fork=use_fork)

    def _mitogen_call(self, func, *args, use_login: bool = False, **kwargs) -> Any:
        """One round trip to the task's context (or the login one)."""
        chain = self._mitogen_chain(use_login=use_login)
        self._mitogen_trace('call', func)
        try:
            return chain.call(func, *args, **kwargs)
        except mitogen.core.ChannelError as exc:
            # The interpreter died under the task (killed, OOM, connection
            # lost): a task failure like vanilla's dead module process; the
            # next task connects afresh.
            raise self._mitogen_error('the target interpreter went away during the task (%s); '
                                      'the next task reconnects' % (exc,))

    def _mitogen_send(self, func, *args, **kwargs) -> None:
        """A call nobody waits for; its failure surfaces at the next call."""
        chain = self._mitogen_chain()
        self._mitogen_trace('send', func)
        chain.call_no_reply(func, *args, **kwargs)

    def _mitogen_trace(self, kind: str, func: Any) -> None:
        # $MITOGEN_EXEC_TRACE names a file that gets one line per target call:
        # tests count calls per task with it, and (by the CLOCK_MONOTONIC
        # time, written before the call leaves) link round trips per task.
        path = os.environ.get('MITOGEN_EXEC_TRACE')
        if path:
            with open(path, 'a') as fp:
                fp.write('%s\t%s\t%s\t%.6f\n' % (self._task.get_name(), kind, func.__name__, time.monotonic()))

    def _mitogen_task_cwd(self) -> Optional[str]:
        """Where modules and commands start (connection.get_default_cwd):
        like vanilla's ActionBase, point `local` at the playbook dir first."""
        if self._connection.login_method == 'local':
            self._connection.cwd = self._loader.get_basedir()
        return self._connection.get_default_cwd()

    def run(self, tmp=None, task_vars=None):
        # kept for the raw fallback, which must configure a vanilla connection
        self._mitogen_task_vars = task_vars or {}
        if not _is_fetch_action(self):
            return super().run(tmp, task_vars)
        # fetch calls connection.fetch_file() itself: stream it for this task
        conn = self._connection
        conn.fetch_file = functools.partial(stream_fetch, conn)
        self._mitogen_trace('stream', stream_fetch)
        try:
            return super().run(tmp, task_vars)
        finally:
            conn.__dict__.pop('fetch_file', None)

    # -- low-level commands ---------------------------------------------------

    def _low_level_execute_command(self, cmd, sudoable=True, in_data=None, executable=None,
                                   encoding_errors='surrogate_then_replace', chdir=None, process_result=None):
        """Run a shell command as vanilla does, minus its become/ssh wrapping.

        Become is the context we call into, so nothing is prefixed to `cmd`.
        Where vanilla would allocate a TTY (connection.allocates_tty), the
        output is what one gives: stderr merged into stdout, CRLF line ends.
        """
        if executable:
            self._connection._shell.executable = executable
        emulate_tty = self._connection.allocates_tty(in_data, sudoable)
        task_cwd = self._mitogen_task_cwd()  # also with `chdir`: vanilla sets local's cwd always
        chdir = task_cwd if chdir is None else chdir
        display.debug('_low_level_execute_command(): executing: %s' % (cmd,))
        try:
            chain = self._mitogen_chain(use_login=not sudoable)
        except BecomeFailed as exc:
            if exc.output is None:
                raise
            # vanilla: the become tool's complaint is the command's output
            out, err = ('', exc.output) if not emulate_tty else (exc.output.replace('\n', '\r\n'), '')
            return dict(rc=1, stdout=out, stdout_lines=out.splitlines(), stderr=err, stderr_lines=err.splitlines())
        except AnsibleConnectionFailure:
            if not self._mitogen_may_run_without_python():
                raise
            return self._mitogen_vanilla_low_level(cmd, sudoable, in_data, executable,
                                                   encoding_errors, chdir, process_result)
        self._mitogen_trace('call', target.exec_command)
        rc, stdout, stderr = chain.call(
            target.exec_command, cmd=to_text(cmd), in_data=to_bytes(in_data or b''),
            chdir=chdir, shell=self._mitogen_command_shell(executable, sudoable), emulate_tty=emulate_tty)
        if process_result is not None:  # ansible-core >= 2.21 (non-Python module wrappers)
            rc, stdout, stderr = process_result(rc, stdout, stderr)
        out = self._strip_success_message(to_text(stdout, errors=encoding_errors))
        err = to_text(stderr, errors=encoding_errors)
        return dict(rc=0 if rc is None else rc, stdout=out, stdout_lines=out.splitlines(),
                    stderr=err, stderr_lines=err.splitlines())

    def _mitogen_command_shell(self, executable, sudoable: bool) -> str:
        """The shell vanilla's command line ends up running `cmd` with.

        Vanilla prefixes ``EXECUTABLE -c`` (the play's executable, /bin/sh,
        unless the caller passed one) and hands the line to the remote
        user's login shell over ssh.  `raw` passes executable=False: then
        the login shell itself runs the command, unless become wraps it in
        ``sudo ... SHELL -c`` (the shell plugin's executable).  The local
        connection always runs lines with /bin/sh.
        """
        if executable:
            return executable
        if executable is None:
            return self._play_context.executable or C.DEFAULT_EXECUTABLE
        become_applies = sudoable and self._connection.becomes()
        if become_applies or not self._connection.runs_login_shell():
            return self._connection._shell.executable or C.DEFAULT_EXECUTABLE
        return runner.LOGIN_SHELL

    def _mitogen_may_run_without_python(self) -> bool:
        """`raw` over ssh is how Python gets installed: it must not need it."""
        return (self._task.action.rsplit('.', 1)[-1] == 'raw'
                and self._connection.login_method == 'ssh')

    def _mitogen_vanilla_low_level(self, cmd, sudoable, in_data, executable, encoding_errors, chdir,
                                   process_result=None):
        """Run `cmd` through ansible-core's own ssh plugin (no Python needed)."""
        vanilla = _vanilla_ssh_connection(self)
        ours = self._connection
        self._connection = vanilla
        extra = {} if process_result is None else {'process_result': process_result}
        try:
            return super()._low_level_execute_command(
                cmd, sudoable=sudoable, in_data=in_data, executable=executable,
                encoding_errors=encoding_errors, chdir=chdir, **extra)
        finally:
            self._connection = ours
            vanilla.close()

    # -- temp dirs, paths, permissions -------------------------------------

    def _make_tmp_path(self, remote_user=None):
        """Create the task temp dir where vanilla would, owned as vanilla's.

        Vanilla's login user creates it under its own remote_tmp; when the
        task becomes an unprivileged user, in a system temp dir, shared by
        ACLs.  Ours is made by the task's context: as the become user (no
        ACLs needed), or by root handing it to the login user.  When the
        path can be computed here, creation is sent without waiting: the
        pipelined call chain runs it before the next call and reports its
        failure there.  Otherwise one call creates it with fallbacks.
        Returned with a trailing '/', like vanilla's.
        """
        remote_tmp = self.get_shell_option('remote_tmp', default='~/.ansible/tmp')
        system_dirs = list(self.get_shell_option('system_tmpdirs', default=['/var/tmp', '/tmp']))
        owner = self._connection.file_owner()
        base = self._mitogen_local_expand(remote_tmp, self._connection.login_homedir)
        if self._connection.becomes() and owner is None and self._is_become_unprivileged():
            # vanilla's _mkdtemp2(system=True)
            if base is None or base.rstrip('/') not in system_dirs:
                base = system_dirs[0]
        basefile = self._connection._shell._generate_temp_dir_name()
        if base is not None:
            path = os.path.join(base, basefile)
            self._mitogen_send(target.make_dir, path, owner)
        else:
            path = self._mitogen_call(target.make_temp_dir, remote_tmp, basefile + '-', system_dirs, owner)
        self._cleanup_remote_tmp = True
        path = self._connection._shell.join_path(path, '')
        self._connection._shell.tmpdir = path
        return path

    def _mitogen_local_expand(self, path: str, home: Optional[str]) -> Optional[str]:
        """`path` expanded with `home`, if knowable without a call."""
        if '$' in path:
            return None
        if path.startswith('/'):
            return path
        if home and (path == '~' or path.startswith('~/')):
            return home + path[1:]
        return None

    def _remove_tmp_path(self, tmp_path, force=False):
        """Remove the task temp dir without waiting for the reply."""
        if tmp_path is None and self._connection._shell.tmpdir:
            tmp_path = self._connection._shell.tmpdir
        if force or self._should_remove_tmp_path(tmp_path):
            self._mitogen_send(target.remove_path, tmp_path)
            self._connection._shell.tmpdir = None

    def _should_remove_tmp_path(self, tmp_path):
        # our temp dirs are named <basefile>-<random>, which still contains '-tmp-'
        return bool(tmp_path and self._cleanup_remote_tmp and not C.DEFAULT_KEEP_REMOTE_FILES
                    and '-tmp-' in tmp_path)

    def _remote_expand_user(self, path, sudoable=True, pathsep=None):
        """``~`` expansion by the user vanilla would pick (become user if sudoable)."""
        if not path.startswith('~'):
            return path
        # the login context is the remote user, the default one the become user
        use_login = not (sudoable and self._connection.become)
        expanded = self._mitogen_call(target.expand_user, path, use_login=use_login)
        if '..' in os.path.dirname(expanded).split('/'):
            raise AssertionError('%r expanded to a path containing ".."' % (path,))
        return expanded

    def _remote_file_exists(self, path):
        return self._mitogen_call(target.file_exists, path)

    def _fixup_perms2(self, remote_paths, remote_user=None, execute=True):
        """Files belong to a user the task can use: at most u+rwx, as vanilla
        does when it needs no ACLs."""
        if execute:
            paths = [p for p in remote_paths if p and p != self._connection._shell.tmpdir]
            if paths:
                self._mitogen_send(target.set_executable, paths)
        return remote_paths

    def _remote_chmod(self, paths, mode, sudoable=False):
        # Files of the task temp dir belong to the task's user (the become
        # user, where vanilla would share the login user's by ACLs).
        tmpdir = self._connection._shell.tmpdir
        if tmpdir and all(str(p).startswith(tmpdir) for p in paths):
            sudoable = True
        return self._low_level_execute_command(
            self._connection._shell.chmod(paths, mode), sudoable=sudoable)

    # -- file transfer -----------------------------------------------------

    def _transfer_data(self, remote_path, data):
        """Write `data` to `remote_path` (atomic on the target), without waiting.

        The module call that consumes the file follows on the same pipelined
        chain, so it runs after the write and fails if the write failed.
        """
        if isinstance(data, dict) and DICT_DATA_AS_JSON:
            from ansible.parsing.utils.jsonify import jsonify
            data = jsonify(data)
        if isinstance(data, str):
            data = data.encode(errors='surrogateescape')
        elif not isinstance(data, bytes):
            raise TypeError('data must be either a string or bytes')
        # vanilla uploads a mkstemp() file: mode 0600; a Blob is never logged
        self._mitogen_send(target.write_path, remote_path, mitogen.core.Blob(data), 0o600, None,
                           self._connection.file_owner())
        return remote_path

    def _transfer_file(self, local_path, remote_path):
        """Small files like _transfer_data; large ones stream via the connection."""
        if os.path.getsize(local_path) <= SMALL_FILE_LIMIT:
            with open(local_path, 'rb') as fp:
                data = fp.read()
            st = os.stat(local_path)
            # as vanilla's sftp upload: the local mode minus the target's umask
            self._mitogen_send(target.write_path, remote_path, mitogen.core.Blob(data), st.st_mode & 0o777,
                               (st.st_atime, st.st_mtime), self._connection.file_owner(), True)
        else:
            self._connection.put_file(local_path, remote_path)
        return remote_path

    # -- module execution ----------------------------------------------------

    def _execute_module(self, module_name=None, module_args=None, tmp=None, task_vars=None,
                        persist_files=False, delete_remote_tmp=None, wrap_async=False,
                        ignore_unknown_opts=False):
        """Vanilla's argument and result handling around one target call."""
        task_vars = {} if task_vars is None else task_vars
        # a fresh host's ssh, boot and init_child overlap the module build
        self._connection.start_connect()
        module_name = self._task.action if module_name is None else module_name
        module_args = self._task.args if module_args is None else module_args
        self._mitogen_update_module_args(module_name, module_args, task_vars, ignore_unknown_opts)

        async_dir = None
        remove_async_dir = None
        if wrap_async or self._task.async_val:
            async_dir = self.get_shell_option('async_dir', default='~/.ansible_async')
            remove_async_dir = len(self._task.environment)
            self._task.environment.append({'ANSIBLE_ASYNC_DIR': async_dir})
        try:
            built, module_path = self._mitogen_configure_module(module_name, module_args, task_vars)
            env = {}
            self._compute_environment_string(env)
        finally:
            if remove_async_dir is not None:
                del self._task.environment[remove_async_dir]
        style, shebang, profile = built.style, built.shebang, built.profile
        display.vvv('Using module file %s' % module_path)
        if not shebang and style != 'binary':
            raise self._mitogen_error('module (%s) is missing interpreter line' % module_name)
        self._used_interpreter = shebang

        program_argv = None
        if style == 'new':
            program_argv = self._mitogen_foreign_interpreter(module_path, shebang, task_vars)
            if program_argv is not None and not built.data:  # the cache kept no wrapper
                built, _ = build_cache.built(None, self._configure_module(
                    module_name=module_name, module_args=module_args, task_vars=task_vars))
        try:
            plan = planner.plan_module(
                module_name, module_args, module_path, style, shebang, built.data, profile,
                env={str(k): str(v) for k, v in env.items()}, cwd=self._mitogen_task_cwd(),
                fork=self._mitogen_wants_fork(task_vars), temp_dir=None,
                emulate_tty=self._connection.allocates_tty(None, True), payload=built.payload,
                program_argv=program_argv)
            spec = plan.spec()
            if spec['kind'] == 'program':  # only programs use it: a Python module's first call need not wait
                spec['temp_dir'] = self._mitogen_temp_dir()
            if wrap_async:
                spec.update(async_jid='j%d' % secrets.randbelow(999999999999),
                            async_limit=self._task.async_val, async_dir=async_dir)
                if remove_internal_keys is None:  # ansible-core >= 2.21: its cmd names the interpreter
                    spec['async_cmd_interpreter'] = True
            res = self._mitogen_run(plan, spec)
        except BecomeFailed as exc:
            if exc.output is None:
                raise
            # vanilla: the become tool's complaint is the module's stderr
            res = {'rc': 1, 'stdout': '', 'stderr': exc.output}
        except InterpreterMissing as exc:
            # vanilla: /bin/sh could not find the module's interpreter
            res = {'rc': 127, 'stdout': '', 'stderr': '/bin/sh: 1: %s: not found\n' % exc.python}
        data = self._mitogen_finish(self._mitogen_parse(res, profile), wrap_async)
        if C.DEFAULT_DEBUG:  # not even the masked copy otherwise
            display.debug("done with _execute_module (%s, %s)" % (module_name, masked_args(module_args)))
        return data

    def _mitogen_run(self, plan: planner.Plan, spec: Dict[str, Any]) -> Dict[str, Any]:
        """Call run_module, answering up to two requests for missing code."""
        chain = self._mitogen_chain()  # connected now: which bundles the interpreter has is known
        conn = self._connection
        known = conn.known_bundles
        bundle_id = plan.bundle_id
        if plan.payload is not None and bundle_id not in known:
            # new to the interpreter: the code goes with the call
            known.add(bundle_id)
            binding, context = conn.get_binding(), conn.context
            spec = dict(spec, **plan.code(lambda digests: binding.claim_code(context, bundle_id, digests), chain))
        reply = self._mitogen_call(target.run_module, spec)
        for _ in range(2):
            if task_wire.NEED not in reply:
                break
            follow_up = plan.answer(reply)
            follow_up.update((key, spec[key]) for key in task_wire.FOLLOW_UP_KEYS if key in spec)
            reply = self._mitogen_call(target.run_module, follow_up)
        if task_wire.NEED in reply:
            raise self._mitogen_error('target kept asking for module code: %r' % (reply[task_wire.NEED],))
        if task_wire.ASYNC in reply:
            return {'rc': 0, 'stdout': json.dumps(reply[task_wire.ASYNC]), 'stderr': ''}
        reply = task_wire.unpacked(reply, task_wire.STDOUT, task_wire.STDERR)
        return {'rc': reply['rc'],
                'stdout': to_text(reply[task_wire.STDOUT], errors='surrogate_or_replace'),
                'stderr': to_text(reply[task_wire.STDERR], errors='surrogate_or_replace')}

    def _mitogen_parse(self, res: Dict[str, Any], profile: str) -> Dict[str, Any]:
        if _takes_arg(self._parse_returned_data, 'profile'):
            return self._parse_returned_data(res, profile)
        return self._parse_returned_data(res)  # ansible-core < 2.19

    def _mitogen_finish(self, data: Any, wrap_async: bool) -> Dict[str, Any]:
        """Post-process a module result into exactly what vanilla returns."""
        if remove_internal_keys is None:
            return self._mitogen_finish_unified(data, wrap_async)
        if data.pop('_ansible_suppress_tmpdir_delete', False):
            self._cleanup_remote_tmp = False
        if not isinstance(data.get('results', ()), (list, tuple)):
            # A module's own 'results' would clash with loop results.
            data['ansible_module_results'] = data.pop('results')
            display.warning("Found internal 'results' key in module return, renamed to 'ansible_module_results'.")
        remove_internal_keys(data)
        if wrap_async:
            # The async job removes its own temporary directory.
            self._connection._shell.tmpdir = None
            data['changed'] = True
        for stream in ('stdout', 'stderr'):
            if stream in data:
                data.setdefault(stream + '_lines', (data[stream] or '').splitlines())
        if self._discovered_interpreter_key:
            facts = data.get('ansible_facts')
            if facts is None:
                facts = data['ansible_facts'] = {}
            facts[self._discovered_interpreter_key] = self._discovered_interpreter
        return data

    def _mitogen_finish_unified(self, utr: Any, wrap_async: bool) -> Dict[str, Any]:
        """ansible-core >= 2.21: the same steps on its UnifiedTaskResult."""
        if utr.suppress_tmpdir_delete:
            self._cleanup_remote_tmp = False
        utr.remove_internal_keys()
        if wrap_async:
            self._connection._shell.tmpdir = None
            utr.changed = True
        if self._discovered_interpreter_key:
            utr.set_fact(self._discovered_interpreter_key, self._discovered_interpreter)
        return utr.as_result_dict(for_round_trip=True)

    def _mitogen_update_module_args(self, module_name, module_args, task_vars, ignore_unknown_opts):
        if _takes_arg(self._update_module_args, 'ignore_unknown_opts'):
            self._update_module_args(module_name, module_args, task_vars,
                                     ignore_unknown_opts=ignore_unknown_opts)
        else:  # older ansible-core
            self._update_module_args(module_name, module_args, task_vars)

    def _mitogen_configure_module(self, module_name, module_args, task_vars):
        """build_cache.Built, module_path: vanilla's _configure_module, its
        module build served by the build cache (ansible-core 2.17-2.21)."""
        with build_cache.building() as build:
            result = self._configure_module(module_name=module_name, module_args=module_args,
                                            task_vars=task_vars)
        return build_cache.built(build, result)

    def _mitogen_foreign_interpreter(self, module_path: str, shebang: str, task_vars) -> Optional[List[str]]:
        """None when vanilla would run this Python module with the
        connection's own interpreter, else the command it would pipe it to."""
        argv = planner.pipelined_argv(self._connection._shell, shebang)

        def own_python() -> Optional[str]:
            own = self._connection._settings().interpreter()
            if transport_config.is_discovery(own):
                own = (task_vars.get('ansible_facts') or {}).get('discovered_interpreter_python')
            return own

        if planner.runs_in_process(argv, shebang, planner.interpreter_name(module_path), own_python):
            return None
        return argv

    def _mitogen_wants_fork(self, task_vars) -> bool:
        isolation = task_vars.get('mitogen_task_isolation')
        if isolation is not None:
            isolation = self._templar.template(isolation)
        return isolation == 'fork'

    def _mitogen_temp_dir(self) -> Optional[str]:
        tmpdir = self._connection._shell.tmpdir
        if tmpdir:
            return tmpdir
        return self._connection.get_good_temp_dir()

    def _mitogen_error(self, msg: str) -> Exception:
        from ansible.errors import AnsibleError
        return AnsibleError(msg)

