"""Action accel.mitogen.mitogen_fetch: entry point into ansible_mitogen, see its collection.py."""
from ansible_mitogen.collection import entry_point

ActionModule = entry_point(__name__)
