"""Connection method "kubectl": a child inside a Kubernetes pod (`kubectl exec -i`).

Runs in the context that calls router.kubectl() (controller or a via=
context with kubectl and its kubeconfig).  kubectl_args (e.g. --namespace,
--context, -c CONTAINER) are placed after `exec -i POD`, where both global
and exec flags are accepted.
"""
import mitogen.parent
from mitogen.ssh import eof_message_naming_python


class Options(mitogen.parent.Options):
    def __init__(self, pod=None, kubectl_path=None, kubectl_args=None, **kwargs):
        super().__init__(**kwargs)
        if not pod:
            raise ValueError('kubectl: pod is required')
        self.pod = pod
        self.kubectl_path = kubectl_path or 'kubectl'
        self.kubectl_args = list(kubectl_args or ())


def build_kubectl_argv(opts: Options, command: list) -> list:
    return [opts.kubectl_path, 'exec', '-i', opts.pod] + opts.kubectl_args + ['--'] + list(command)


class Connection(mitogen.parent.Connection):
    options_class = Options
    name_prefix = 'kubectl'
    eof_message = eof_message_naming_python
    failure_patterns = (
        (rb'Error from server \(NotFound\)|pods? "[^"]*" not found', 'kubectl: no such pod'),
        (rb'Unable to connect to the server|connection refused', 'kubectl: cannot reach the API server'),
    )

    def get_argv(self):
        return build_kubectl_argv(self.options, self.get_boot_command())

    def default_name(self):
        return 'kubectl.%s' % (self.options.pod,)
