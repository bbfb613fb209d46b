#!/usr/bin/python
# A module that returns warnings and deprecations, as modules do.
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(text=dict(type='str', default='careful')))
    module.warn('module warning: %s' % module.params['text'])
    module.deprecate('module deprecation: %s' % module.params['text'], version='99.0')
    module.exit_json(changed=False, text=module.params['text'])


if __name__ == '__main__':
    main()
