"""Connection method "docker": a child inside a Docker container.

Runs in the context that calls router.docker() (controller or a via=
context with a docker CLI).  `docker exec -i` enters a running container;
with image= instead, `docker run -i --rm` starts a throw-away container
from that image, removed when the child exits.
"""
import mitogen.parent
from mitogen.ssh import eof_message_naming_python

#: Output of the docker CLI / daemon that means the attempt failed.
DOCKER_FAILURES = (
    (rb'No such container', 'docker: no such container'),
    (rb'is not running', 'docker: the container is not running'),
    (rb'Cannot connect to the Docker daemon', 'docker: cannot connect to the Docker daemon'),
    (rb'unable to find user|no matching entries in passwd', 'docker: unknown user in the container'),
    (rb'Unable to find image|pull access denied|manifest unknown', 'docker: image not found'),
)


class Options(mitogen.parent.Options):
    def __init__(self, container=None, image=None, docker_path=None, username=None, **kwargs):
        super().__init__(**kwargs)
        if not (container or image):
            raise ValueError('docker: container or image is required')
        self.container = container
        self.image = image
        self.docker_path = docker_path or 'docker'
        self.username = username


def build_docker_argv(opts: Options, command: list) -> list:
    user = ['--user', opts.username] if opts.username else []
    if opts.container:
        return [opts.docker_path, 'exec', '--interactive'] + user + [opts.container] + list(command)
    return [opts.docker_path, 'run', '--interactive', '--rm'] + user + [opts.image] + list(command)


class Connection(mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'docker'
    eof_message = eof_message_naming_python
    failure_patterns = DOCKER_FAILURES

    def get_argv(self):
        return build_docker_argv(self.options, self.get_boot_command())

    def default_name(self):
        return 'docker.%s' % (self.options.container or self.options.image,)
