"""Connection method "docker": a child inside a Docker container.

Runs in the context that calls router.docker() (controller or a via=
context with a docker CLI).  `docker exec -i` enters a running container;
with image= instead, `docker run -i --rm` starts a throw-away container
from that image, removed when the child exits.  docker_args go before the
subcommand (-H to reach a remote daemon), exec_args after it.
"""
from mitogen.methodbase import ContainerOptions, ToolConnection, flag_with_user


class Options(ContainerOptions):
    method = 'docker'
    target_keyword = 'container or image'

    def __init__(self, container=None, image=None, docker_path=None, username=None,
                 docker_args=None, exec_args=None, **kwargs):
        super().__init__(container or image, docker_path, username, **kwargs)
        self.container = container
        self.image = image
        #: Global flags before the subcommand (-H HOST, --context NAME, ...).
        self.docker_args = list(docker_args or ())
        #: Flags of `exec`/`run` itself (--privileged, --workdir, --env, ...).
        self.exec_args = list(exec_args or ())


def build_docker_argv(opts: Options, command: list) -> list:
    flags = flag_with_user(opts, '--user') + opts.exec_args
    tool = [opts.tool_path] + opts.docker_args
    if opts.container:
        return tool + ['exec', '--interactive'] + flags + [opts.container] + list(command)
    return tool + ['run', '--interactive', '--rm'] + flags + [opts.image] + list(command)


class Connection(ToolConnection):
    options_class = Options
    build_argv = staticmethod(build_docker_argv)
    failure_patterns = (
        (rb'No such container', 'docker: no such container'),
        (rb'is not running', 'docker: the container is not running'),
        (rb'Cannot connect to the Docker daemon', 'docker: cannot connect to the Docker daemon'),
        (rb'unable to find user|no matching entries in passwd', 'docker: unknown user in the container'),
        (rb'Unable to find image|pull access denied|manifest unknown', 'docker: image not found'),
    )
