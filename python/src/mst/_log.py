"""libmst's log (mst_set_log_callback, mst_set_log_level): silent unless a callback is set.

The callback may run on any thread: the caller's, or a libmst capture, playback or output
thread (ctypes takes the GIL for it). One C trampoline serves every callback; libmst gets a
token as user_data, and the Python callable stays in the package's registry under it until
libmst's destroy-notify says that no message is being delivered to it any more, so a callback
that was replaced while another thread was still inside it is not collected under that
thread.
"""
import atexit
import ctypes as C
import enum
import logging

from . import _abi
from ._core import _FORGET, _callbacks
from ._lib import lib
from .errors import call


class LogLevel(enum.IntEnum):
    """MstLogLevel: how much a message matters, most severe first."""
    ERROR = _abi.MST_LOG_ERROR
    WARNING = _abi.MST_LOG_WARNING
    INFO = _abi.MST_LOG_INFO
    DEBUG = _abi.MST_LOG_DEBUG


def _deliver(token, level, origin, message):
    callback = _callbacks.get(token)
    if callback is None:
        return
    try:
        level = LogLevel(level)
    except ValueError:  # a level a newer libmst added: passed on as its number
        pass
    # An exception the callback raises is not caught here: ctypes reports it through
    # sys.unraisablehook (with this function as its object) and returns to libmst, so
    # nothing unwinds into C.
    callback(level, origin.decode(errors="replace"), message.decode(errors="replace"))


# For the life of the process: libmst may call it until the interpreter exits, and at exit
# the callback is removed first (below).
_TRAMPOLINE = C.CFUNCTYPE(None, C.c_void_p, C.c_int32, C.c_char_p, C.c_char_p)(_deliver)


def set_log_callback(callback):
    """Sends libmst's log messages (alsa-lib's error messages among them, which would otherwise
    go to stderr) to `callback(level, origin, message)`: level a LogLevel, origin "libmst" or
    "alsa-lib", message one line. None drops them (the default). The callback may be called
    on libmst's own threads; an exception it raises goes to sys.unraisablehook and never
    reaches libmst. The package keeps the callback alive until it is replaced."""
    if callback is None:
        call("mst_set_log_callback", None, None, None)
        return
    if not callable(callback):
        raise TypeError(f"the log callback must be callable or None, not {callback!r}")
    token = _callbacks.hold(callback)
    try:
        call("mst_set_log_callback", _TRAMPOLINE, C.c_void_p(token), _FORGET)
    except BaseException:
        _callbacks.forget(token)
        raise


_LEVEL_NAMES = {level.name.lower(): level for level in LogLevel}


def set_log_level(level):
    """The least severe level delivered: a LogLevel, its number, or its name ("error",
    "warning", "info", "debug"). The default is LogLevel.WARNING."""
    if isinstance(level, str):
        if level.lower() not in _LEVEL_NAMES:
            raise ValueError(f"unknown log level {level!r}; known: {', '.join(_LEVEL_NAMES)}")
        level = _LEVEL_NAMES[level.lower()]
    call("mst_set_log_level", int(level))


_TO_LOGGING = {LogLevel.ERROR: logging.ERROR, LogLevel.WARNING: logging.WARNING,
               LogLevel.INFO: logging.INFO, LogLevel.DEBUG: logging.DEBUG}


def log_to_logging(logger="mst"):
    """Sends libmst's log to the standard logging module: `logger` (a Logger or a name), at
    the matching logging level, the origin in the record's `mst_origin` attribute."""
    if isinstance(logger, str):
        logger = logging.getLogger(logger)

    def forward(level, origin, message):
        logger.log(_TO_LOGGING.get(level, logging.DEBUG), "%s: %s", origin, message,
                   extra={"mst_origin": origin})

    set_log_callback(forward)


@atexit.register
def _quiet_at_exit():
    """A libmst thread that logs while the interpreter finalises must not call into it."""
    try:
        lib.mst_set_log_callback(None, None, None)
    except Exception:
        pass
