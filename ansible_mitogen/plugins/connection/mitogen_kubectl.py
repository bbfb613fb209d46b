"""Connection type `mitogen_kubectl`: a Kubernetes pod (kubectl exec), over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `kubernetes.core.kubectl` here).

Generated from ansible_mitogen/connection_types.yml ("kubectl") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_kubectl
short_description: Mitogen interpreter inside a Kubernetes pod
description:
  - Runs tasks in a persistent Mitogen interpreter inside a Kubernetes pod
    (kubectl exec), reading the same variables as kubernetes.core.kubectl
    (and C(kubectl)), which it replaces under our strategies.
author: ansible_mitogen
options:
  remote_addr:
    description: Name of the container (or pod, jail, machine) to enter.
    vars: [{name: inventory_hostname}, {name: ansible_host}]
  kubectl_pod:
    description: Pod name; the host's address when unset.
    vars: [{name: ansible_kubectl_pod}]
    env: [{name: K8S_AUTH_POD}]
  kubectl_container:
    description: Container of the pod (C(-c)).
    vars: [{name: ansible_kubectl_container}]
    env: [{name: K8S_AUTH_CONTAINER}]
  kubectl_namespace:
    description: Namespace (C(-n)).
    vars: [{name: ansible_kubectl_namespace}]
    env: [{name: K8S_AUTH_NAMESPACE}]
  kubectl_extra_args:
    description: Extra arguments, split on spaces.
    vars: [{name: ansible_kubectl_extra_args}]
    env: [{name: K8S_AUTH_EXTRA_ARGS}]
  kubectl_kubeconfig:
    description: Path of the kubeconfig file (C(--kubeconfig)).
    vars: [{name: ansible_kubectl_kubeconfig}, {name: ansible_kubectl_config}]
    env: [{name: K8S_AUTH_KUBECONFIG}]
  kubectl_context:
    description: kubeconfig context (C(--context)).
    vars: [{name: ansible_kubectl_context}]
    env: [{name: K8S_AUTH_CONTEXT}]
  kubectl_host:
    description: API server URL (C(--server)).
    vars: [{name: ansible_kubectl_host}, {name: ansible_kubectl_server}]
    env: [{name: K8S_AUTH_HOST}, {name: K8S_AUTH_SERVER}]
  kubectl_username:
    description: API user (C(--username)).
    vars: [{name: ansible_kubectl_username}, {name: ansible_kubectl_user}]
    env: [{name: K8S_AUTH_USERNAME}]
  kubectl_password:
    description: API password (C(--password)).
    vars: [{name: ansible_kubectl_password}]
    env: [{name: K8S_AUTH_PASSWORD}]
  kubectl_token:
    description: API token (C(--token)).
    vars: [{name: ansible_kubectl_token}, {name: ansible_kubectl_api_key}]
    env: [{name: K8S_AUTH_TOKEN}, {name: K8S_AUTH_API_KEY}]
  client_cert:
    description: Client certificate (C(--client-certificate)).
    vars: [{name: ansible_kubectl_cert_file}, {name: ansible_kubectl_client_cert}]
    env: [{name: K8S_AUTH_CERT_FILE}]
  client_key:
    description: Client key (C(--client-key)).
    vars: [{name: ansible_kubectl_key_file}, {name: ansible_kubectl_client_key}]
    env: [{name: K8S_AUTH_KEY_FILE}]
  ca_cert:
    description: CA certificate (C(--certificate-authority)).
    vars: [{name: ansible_kubectl_ssl_ca_cert}, {name: ansible_kubectl_ca_cert}]
    env: [{name: K8S_AUTH_SSL_CA_CERT}]
  validate_certs:
    description: Verify the API server certificate (false gives C(--insecure-skip-tls-verify=true)).
    vars: [{name: ansible_kubectl_verify_ssl}, {name: ansible_kubectl_validate_certs}]
    env: [{name: K8S_AUTH_VERIFY_SSL}]
  mitogen_kubectl_path:
    description: Path of the C(kubectl) program on the controller or the mitogen_via host.
    vars: [{name: mitogen_kubectl_path}]
"""

Connection = ansible_mitogen.executor.connection.connection_type("kubectl", __name__)
