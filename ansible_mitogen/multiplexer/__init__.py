"""The connection multiplexers: processes that own every connection to targets.

Forked by the strategy process at activation (process.start), N of them,
each with a share of the hosts; they hold the Mitogen routers, the
contexts on targets and the services (services.py) that task executors
call over a UNIX socket (process.client).  Nothing here travels.
"""
