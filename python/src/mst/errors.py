"""libmst statuses as exceptions: one class per status, all subclasses of mst.Error."""
from . import _abi
from ._lib import lib


class Error(Exception):
    """A libmst call failed. `status` is the MstStatus (negative), `message` the library's
    mst_last_error_message() for the failure."""

    status = None

    def __init__(self, status, message, function=None):
        self.status = status
        self.message = message
        self.function = function
        name = lib.mst_status_str(status).decode()
        # libmst's own messages begin with the function's name; the package's do not.
        named = not function or message.startswith(f"{function}: ")
        where = "" if named else f"{function}: "
        super().__init__(f"{name} ({status}): {where}{message}")


class Again(Error): pass                      # noqa: E701  MST_ERR_AGAIN
class Timeout(Error, TimeoutError): pass      # noqa: E701  MST_ERR_TIMEOUT
class Ended(Error): pass                      # noqa: E701  MST_ERR_ENDED
class Interrupted(Error): pass                # noqa: E701  MST_ERR_INTERRUPTED
class NullArg(Error, ValueError): pass        # noqa: E701  MST_ERR_NULL_ARG
class InvalidArg(Error, ValueError): pass     # noqa: E701  MST_ERR_INVALID_ARG
class WrongType(Error, TypeError): pass      # noqa: E701  MST_ERR_TYPE (the spec's TypeError)
class InvalidState(Error): pass               # noqa: E701  MST_ERR_INVALID_STATE
class RangeError(Error, ValueError): pass     # noqa: E701  MST_ERR_RANGE
class NoDevice(Error): pass                   # noqa: E701  MST_ERR_NO_DEVICE
class Busy(Error): pass                       # noqa: E701  MST_ERR_BUSY
class IOFailure(Error, OSError): pass        # noqa: E701  MST_ERR_IO
class Unsupported(Error): pass                # noqa: E701  MST_ERR_UNSUPPORTED
class NoMemory(Error, MemoryError): pass      # noqa: E701  MST_ERR_NO_MEMORY
class Panic(Error): pass                      # noqa: E701  MST_ERR_PANIC


class Overconstrained(Error):
    """The spec's OverconstrainedError; `constraint` names the property."""

    def __init__(self, status, message, function=None):
        super().__init__(status, message, function)
        c = lib.mst_last_error_constraint()
        self.constraint = c.decode() if c else None


BY_STATUS = {
    _abi.MST_ERR_AGAIN: Again, _abi.MST_ERR_TIMEOUT: Timeout, _abi.MST_ERR_ENDED: Ended,
    _abi.MST_ERR_INTERRUPTED: Interrupted, _abi.MST_ERR_NULL_ARG: NullArg,
    _abi.MST_ERR_INVALID_ARG: InvalidArg, _abi.MST_ERR_TYPE: WrongType,
    _abi.MST_ERR_INVALID_STATE: InvalidState, _abi.MST_ERR_RANGE: RangeError,
    _abi.MST_ERR_NO_DEVICE: NoDevice, _abi.MST_ERR_BUSY: Busy, _abi.MST_ERR_IO: IOFailure,
    _abi.MST_ERR_OVERCONSTRAINED: Overconstrained, _abi.MST_ERR_UNSUPPORTED: Unsupported,
    _abi.MST_ERR_NO_MEMORY: NoMemory, _abi.MST_ERR_PANIC: Panic,
}


def check(status, function):
    """Raises the exception for a failed call; the message is read at once, on the failing
    thread, before another libmst call can replace it."""
    if status != _abi.MST_OK:
        msg = lib.mst_last_error_message()
        raise BY_STATUS.get(status, Error)(status, msg.decode(errors="replace") if msg else "",
                                           function)


def call(name, *args):
    """Calls lib.NAME(*args), raising on failure; a freed handle among the arguments raises
    mst.InvalidState, as libmst answers for a freed C handle."""
    for a in args:
        if getattr(a, "freed", False):
            raise InvalidState(_abi.MST_ERR_INVALID_STATE,
                               f"this {type(a).__name__} was freed", name)
    check(getattr(lib, name)(*args), name)
