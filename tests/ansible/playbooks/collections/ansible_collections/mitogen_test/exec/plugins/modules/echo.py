#!/usr/bin/python
# Collection module importing a module_util of its own collection.
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mitogen_test.exec.plugins.module_utils.reverse import reverse


def main():
    module = AnsibleModule(argument_spec=dict(text=dict(type='str', required=True)))
    module.exit_json(changed=False, reversed=reverse(module.params['text']))


if __name__ == '__main__':
    main()
