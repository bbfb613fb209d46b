"""Connection method "doas": a child running as another user via OpenBSD doas(1).

Runs in the context that calls router.doas() (controller or a via= context).
doas reads its password from /dev/tty, so the child gets a pseudo-terminal
as controlling tty; the prompt is answered only when a password is given.
"""
import mitogen.core
import mitogen.parent
from mitogen.ssh import eof_message_naming_python
from mitogen.su import IncorrectPasswordMixin, patterns_from_texts

DEFAULT_PASSWORD_PROMPTS = ('password:',)
DEFAULT_INCORRECT_PROMPTS = ('authentication failed', 'authentication failure')


class Options(mitogen.parent.Options):
    def __init__(self, username=None, password=None, doas_path=None, password_prompts=None,
                 incorrect_prompts=None, **kwargs):
        if password is not None:
            password = mitogen.core.Secret(password)
        super().__init__(password=password, **kwargs)
        self.username = username or 'root'
        self.doas_path = doas_path or 'doas'
        self.password_prompts = tuple(password_prompts or DEFAULT_PASSWORD_PROMPTS)
        self.incorrect_prompts = tuple(incorrect_prompts or DEFAULT_INCORRECT_PROMPTS)


def build_doas_argv(opts: Options, command: list) -> list:
    return [opts.doas_path, '-u', opts.username, '--'] + list(command)


class Connection(IncorrectPasswordMixin, mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'doas'
    eof_message = eof_message_naming_python
    use_tty = True
    failure_patterns = (
        (rb'not permitted', 'doas refused: no rule permits this'),
        (rb'unknown user', 'doas: unknown target user'),
        (rb'a password is required', 'doas password is required'),
    )
    password_required_msg = 'doas password is required (doas asked for one, none was given)'
    password_incorrect_msg = 'doas password is incorrect'

    def __init__(self, options, router):
        super().__init__(options, router)
        self.password_patterns = patterns_from_texts(options.password_prompts)
        self.incorrect_patterns = patterns_from_texts(options.incorrect_prompts)

    def get_argv(self):
        return build_doas_argv(self.options, self.get_boot_command())

    def default_name(self):
        return 'doas.%s' % (self.options.username,)
