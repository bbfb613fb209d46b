"""Doc fragment accel.mitogen.ours: documentation of the collection's plugins.

Read by ansible-doc and by ansible's plugin loader (controller).  Attribute
<TYPE>_<NAME> is built at run time by ansible_mitogen.collection from the
plugin's text in ansible_mitogen/plugins/ and the builtin plugin's options.
"""
from ansible_mitogen.collection import DocFragment


class ModuleDocFragment(DocFragment):
    pass
