#!/usr/bin/python
# Imports one name through six.moves, chosen by `what`: a later module that
# reaches another six.moves submodule needs six's importer, which the first
# import of six registered (exec_six_moves.yml).
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={'what': {'type': 'str', 'required': True}})
    if module.params['what'] == 'range':
        from ansible.module_utils.six.moves import range as found
    else:
        from ansible.module_utils.six.moves.urllib.parse import urlparse as found
    module.exit_json(changed=False, found=found.__name__)


main()
