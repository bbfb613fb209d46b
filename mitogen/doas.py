"""Connection method "doas": a child running as another user via OpenBSD doas(1).

Runs in the context that calls router.doas() (controller or a via= context).
doas reads its password from /dev/tty, so the child gets a pseudo-terminal
as controlling tty; the prompt is answered only when a password is given.
Like su, doas gives up after one refused password (incorrect_prompts).
"""
from mitogen.methodbase import BecomeConnection, BecomeOptions


class Options(BecomeOptions):
    method = 'doas'
    default_password_prompts = ('password:',)
    default_incorrect_prompts = ('authentication failed', 'authentication failure')

    def __init__(self, username=None, password=None, doas_path=None, password_prompts=None,
                 incorrect_prompts=None, **kwargs):
        super().__init__(username, doas_path, password_prompts, incorrect_prompts, password=password, **kwargs)


def build_doas_argv(opts: Options, command: list) -> list:
    return [opts.tool_path, '-u', opts.username, '--'] + list(command)


class Connection(BecomeConnection):
    options_class = Options
    build_argv = staticmethod(build_doas_argv)
    use_tty = True
    failure_patterns = (
        (rb'not permitted', 'doas refused: no rule permits this'),
        (rb'unknown user', 'doas: unknown target user'),
        (rb'a password is required', 'doas password is required'),
    )
