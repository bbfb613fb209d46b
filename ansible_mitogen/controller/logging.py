"""Route `mitogen` and `ansible_mitogen` log records to Ansible's display.

Set up by `activation` in the controller; inherited by the multiplexers and
task workers it forks.  MITOGEN_LOG_LEVEL (DEBUG, INFO, ...) picks the
level; by default only warnings show, at -vvv and more debug records of
ours show too.
"""
import logging
import os

_ROOTS = ("mitogen", "ansible_mitogen")
_configured = False


class DisplayHandler(logging.Handler):
    """Hands records to ansible.utils.display; vvv for anything below WARNING."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from ansible.utils.display import Display

            import mitogen.core

            # Records are masked when created (mitogen.core.register_secret);
            # the formatted text adds tracebacks, so mask it once more.
            text = "[pid %d] %s" % (os.getpid(), mitogen.core.mask_secrets(self.format(record)))
            if record.levelno >= logging.WARNING:
                Display().warning(text)
            else:
                Display().vvv(text)
        except Exception:
            self.handleError(record)


def level() -> int:
    """Log level chosen by MITOGEN_LOG_LEVEL (default WARNING)."""
    name = os.environ.get("MITOGEN_LOG_LEVEL", "").upper()
    return getattr(logging, name, logging.WARNING) if name else logging.WARNING


def setup() -> None:
    """Attach the display handler once per process tree."""
    global _configured
    if _configured:
        return
    handler = DisplayHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    for name in _ROOTS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(level())
    # Connection tools' own diagnostics the user asked for (ssh -v through
    # the ssh `verbosity` option) are INFO records: shown at -vvv, as
    # vanilla shows ssh's debug lines.
    stderr_logger = logging.getLogger("mitogen.stderr")
    stderr_logger.setLevel(min(level(), logging.INFO))
    _configured = True
