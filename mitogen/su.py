"""Connection method "su": a child running as another user, switched with su(1).

Runs in the context that calls router.su() (controller or a via= context).
su reads its password from stdin through PAM, so stdin/stdout are carried
over a pseudo-terminal in raw mode; the boot command is handed to the
target user's shell with -c.  Prompt and failure texts are configurable
(password_prompts, incorrect_prompts) for localized systems.
"""
import re

import mitogen.core
import mitogen.parent
from mitogen.ssh import eof_message_naming_python

#: Lowercase substrings of su password prompts (English and common locales).
DEFAULT_PASSWORD_PROMPTS = ('password:', 'passwort:', 'mot de passe', 'contraseña', 'senha:', 'пароль')
#: Lowercase substrings meaning the password was refused.
DEFAULT_INCORRECT_PROMPTS = ('authentication failure', 'incorrect password', 'su: sorry',
                             'authentication failed', 'authentication token manipulation error')


def patterns_from_texts(texts) -> tuple:
    """Literal, lowercased bytes regexes for user-supplied prompt texts."""
    return tuple(re.escape(t.lower().encode('utf-8')) for t in texts)


class Options(mitogen.parent.Options):
    def __init__(self, username=None, password=None, su_path=None, password_prompts=None,
                 incorrect_prompts=None, su_args=None, **kwargs):
        if password is not None:
            password = mitogen.core.Secret(password)
        super().__init__(password=password, **kwargs)
        self.username = username or 'root'
        self.su_path = su_path or 'su'
        self.password_prompts = tuple(password_prompts or DEFAULT_PASSWORD_PROMPTS)
        self.incorrect_prompts = tuple(incorrect_prompts or DEFAULT_INCORRECT_PROMPTS)
        self.su_args = list(su_args or ())


def build_su_argv(opts: Options, command: list) -> list:
    """su argv running `command` through the target user's shell."""
    # "user -c cmd": GNU su parses -c anywhere, BSD su passes it to the shell.
    return [opts.su_path] + opts.su_args + [opts.username, '-c', mitogen.parent.shell_join(command)]


class IncorrectPasswordMixin(object):
    """Turns refusal texts into PasswordError (for tools that do not re-prompt).

    su and doas exit after one refused password instead of prompting again,
    so their refusal must read "incorrect", not a generic failure.  The
    subclass sets `incorrect_patterns` (bytes regexes, case-insensitive).
    """

    incorrect_patterns = ()

    def _scan_output(self, data):
        text = (self._output + data)[self._scanned:]
        for pattern in self.incorrect_patterns:
            if re.search(pattern, text, re.I):
                self._output += data
                raise mitogen.parent.PasswordError(self.password_incorrect_msg)
        super()._scan_output(data)


class Connection(IncorrectPasswordMixin, mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'su'
    eof_message = eof_message_naming_python
    stdio_over_tty = True
    failure_patterns = (
        (rb'does not exist|unknown (login|user)', 'su: unknown target user'),
        (rb'This account is currently not available', 'su refused: the account has no usable shell'),
        (rb'must be run from a terminal', 'su requires a terminal'),
    )
    password_required_msg = 'su password is required (su asked for one, none was given)'
    password_incorrect_msg = 'su password is incorrect'

    def __init__(self, options, router):
        super().__init__(options, router)
        self.password_patterns = patterns_from_texts(options.password_prompts)
        self.incorrect_patterns = patterns_from_texts(options.incorrect_prompts)

    def get_argv(self):
        return build_su_argv(self.options, self.get_boot_command())

    def default_name(self):
        return 'su.%s' % (self.options.username,)
