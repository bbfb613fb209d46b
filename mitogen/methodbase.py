"""Shared bases of the connection methods that wrap the boot command in one tool.

Container methods (docker, podman, buildah, lxc, lxd, jail, kubectl,
machinectl) run a CLI whose stdin/stdout reach a process inside the
container; become methods (sudo, su, doas) run a program that switches user.
Each method module declares only what differs -- its keywords, its argv
builder, its failure texts -- and inherits the rest from here.  Imported by
the method modules, wherever router.<method>() runs: the controller or a
via= context (so this stays Python 3.8 compatible).
"""
import re
from typing import List

import mitogen.parent

#: Lowercase texts of shells (dash, bash, busybox) and exec tools for a missing program.
MISSING_COMMAND_PATTERNS = ('not found', 'no such file or directory')


def eof_message_naming_python(conn, output: str) -> str:
    """Connection.eof_message that names the interpreter when it is missing.

    Shared by every method (assigned as a class attribute): the shells and
    exec tools report a missing program in their own words, all of which
    mention its path and "not found" or "no such file or directory".
    """
    python = conn.get_python_argv()[0]
    lowered = output.lower()
    if python in output and any(p in lowered for p in MISSING_COMMAND_PATTERNS):
        return ('python interpreter %r not found on the target (python_path); output: %s'
                % (python, output.strip()))
    return mitogen.parent.Connection.eof_message(conn, output)


def patterns_from_texts(texts) -> tuple:
    """Literal, lowercased bytes regexes for user-supplied prompt texts."""
    return tuple(re.escape(t.lower().encode('utf-8')) for t in texts)


def flag_with_user(opts, flag: str) -> List[str]:
    """[flag, username] when a user inside the container was asked for, else []."""
    return [flag, opts.username] if opts.username else []


class ToolConnection(mitogen.parent.Connection):
    """A child started as `tool ... BOOT-COMMAND`, named after one option.

    Subclasses set `options_class` (whose `method` names the method) and
    `build_argv` (a staticmethod (options, boot argv) -> argv, kept
    module-level so tests can check command lines without a process).
    """

    eof_message = eof_message_naming_python
    #: Options attribute whose value completes the context name ("lxc.web1").
    name_option = 'target'

    @property
    def name_prefix(self) -> str:
        # The method's name is declared once, on its Options class.
        return self.options_class.method

    @staticmethod
    def build_argv(opts, command: List[str]) -> List[str]:
        raise NotImplementedError

    def get_argv(self) -> List[str]:
        return self.build_argv(self.options, self.get_boot_command())

    def default_name(self) -> str:
        return '%s.%s' % (self.name_prefix, getattr(self.options, self.name_option))


class ContainerOptions(mitogen.parent.Options):
    """What to enter (`target`), the tool's path and the user inside.

    Subclasses keep an explicit __init__ listing their public keywords
    (ansible_mitogen filters settings by those signatures) and pass them on
    positionally; the parameters here are positional-only so they never
    count as accepted keywords themselves.
    """

    #: Method name: error messages and context names.
    method = ''
    #: Program name of the tool (looked up on PATH) where it differs from `method`.
    tool = ''
    #: What the caller must name, for the "is required" error.
    target_keyword = 'container'

    def __init__(self, target, tool_path, username=None, /, **kwargs):
        super().__init__(**kwargs)
        if not target:
            raise ValueError('%s: %s is required' % (self.method, self.target_keyword))
        self.target = target
        self.tool_path = tool_path or self.tool or self.method
        self.username = username


class BecomeOptions(mitogen.parent.Options):
    """Target user (root by default), the tool's path and its prompt texts."""

    #: Method name, also the tool's default program name.
    method = ''
    #: Lowercase substrings of password prompts; () keeps the class's regexes.
    default_password_prompts = ()
    #: Lowercase substrings meaning the password was refused.
    default_incorrect_prompts = ()

    def __init__(self, username, tool_path, password_prompts=None, incorrect_prompts=None, /,
                 **kwargs):
        super().__init__(**kwargs)
        self.username = username or 'root'
        self.tool_path = tool_path or self.method
        self.password_prompts = tuple(password_prompts or self.default_password_prompts)
        self.incorrect_prompts = tuple(incorrect_prompts or self.default_incorrect_prompts)


class BecomeConnection(ToolConnection):
    """Answers the tool's password prompt; messages say which tool asked."""

    name_option = 'username'

    def __init__(self, options, router):
        super().__init__(options, router)
        # Configurable texts (localized systems) replace the class regexes.
        if options.password_prompts:
            self.password_patterns = patterns_from_texts(options.password_prompts)
        if options.incorrect_prompts:
            self.incorrect_patterns = patterns_from_texts(options.incorrect_prompts)

    @property
    def password_required_msg(self) -> str:
        return '%s password is required (%s asked for one, none was given)' % (
            self.name_prefix, self.name_prefix)

    @property
    def password_incorrect_msg(self) -> str:
        return '%s password is incorrect' % (self.name_prefix,)
