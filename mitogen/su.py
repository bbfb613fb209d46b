"""Connection method "su": a child running as another user, switched with su(1).

Runs in the context that calls router.su() (controller or a via= context).
su reads its password from stdin through PAM, so stdin/stdout are carried
over a pseudo-terminal in raw mode; the boot command is handed to the
target user's shell with -c.  Prompt and failure texts are configurable
(password_prompts, incorrect_prompts) for localized systems.
"""
from mitogen.methodbase import BecomeConnection, BecomeOptions
from mitogen.parent import shell_join


class Options(BecomeOptions):
    method = 'su'
    #: English and common locales.
    default_password_prompts = ('password:', 'passwort:', 'mot de passe', 'contraseña', 'senha:', 'пароль')
    # su exits after one refused password instead of prompting again, so
    # its refusal must read "incorrect", not a generic failure.
    default_incorrect_prompts = ('authentication failure', 'incorrect password', 'su: sorry',
                                 'authentication failed', 'authentication token manipulation error')

    def __init__(self, username=None, password=None, su_path=None, password_prompts=None,
                 incorrect_prompts=None, su_args=None, **kwargs):
        super().__init__(username, su_path, password_prompts, incorrect_prompts, password=password, **kwargs)
        self.su_args = list(su_args or ())


def build_su_argv(opts: Options, command: list) -> list:
    """su argv running `command` through the target user's shell."""
    # "user -c cmd": GNU su parses -c anywhere, BSD su passes it to the shell.
    return [opts.tool_path] + opts.su_args + [opts.username, '-c', shell_join(command)]


class Connection(BecomeConnection):
    options_class = Options
    build_argv = staticmethod(build_su_argv)
    stdio_over_tty = True
    failure_patterns = (
        (rb'does not exist|unknown (login|user)', 'su: unknown target user'),
        (rb'This account is currently not available', 'su refused: the account has no usable shell'),
        (rb'must be run from a terminal', 'su requires a terminal'),
    )
