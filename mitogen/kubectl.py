"""Connection method "kubectl": a child inside a Kubernetes pod (`kubectl exec -i`).

Runs in the context that calls router.kubectl() (controller or a via=
context with kubectl and its kubeconfig).  kubectl_args (e.g. --namespace,
--context, -c CONTAINER) are placed after `exec -i POD`, where both global
and exec flags are accepted.
"""
from mitogen.methodbase import ContainerOptions, ToolConnection


class Options(ContainerOptions):
    method = 'kubectl'
    target_keyword = 'pod'

    def __init__(self, pod=None, kubectl_path=None, kubectl_args=None, **kwargs):
        super().__init__(pod, kubectl_path, **kwargs)
        self.kubectl_args = list(kubectl_args or ())


def build_kubectl_argv(opts: Options, command: list) -> list:
    return [opts.tool_path, 'exec', '-i', opts.target] + opts.kubectl_args + ['--'] + list(command)


class Connection(ToolConnection):
    options_class = Options
    build_argv = staticmethod(build_kubectl_argv)
    failure_patterns = (
        (rb'Error from server \(NotFound\)|pods? "[^"]*" not found', 'kubectl: no such pod'),
        (rb'Unable to connect to the server|connection refused', 'kubectl: cannot reach the API server'),
    )
