#!/usr/bin/python
# A new-style module that dies with an exception after printing junk.
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule


def main():
    AnsibleModule(argument_spec=dict())
    raise RuntimeError('mt_crash exploded')


if __name__ == '__main__':
    main()
