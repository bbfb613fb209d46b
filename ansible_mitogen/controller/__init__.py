"""The strategy process: activation and the hooks it installs into ansible-core.

Runs in ansible-playbook's own process, where the strategy runs, before it
forks anything: what is installed here (loaders, speedups, plugin warmup,
logging) is inherited by the multiplexers, the engine's executor processes
and forked task workers.  Our strategy plugins and the accelerate vars
plugin call activation.activate(); ansible_mitogen.engine is installed
from there too.
"""
