"""Finding and loading libmst.so."""
import ctypes
import ctypes.util
import os
import shutil
import subprocess

from . import _abi

SONAME = "libmst.so.1"


def _candidates():
    """Where libmst may be, in the order tried: $MST_LIB, the library `make install` put beside
    this package (it writes _installed.py), the libdir of pkg-config's `mst` module (a custom
    prefix the loader does not search), then the dynamic loader's path."""
    env = os.environ.get("MST_LIB")
    if env:
        yield env
        return  # an explicit choice that fails must not fall back to another library
    try:
        from . import _installed
    except ImportError:  # installed with pip, not by make install
        pass
    else:
        yield os.path.join(_installed.LIBDIR, SONAME)
    if shutil.which("pkg-config"):
        try:
            libdir = subprocess.run(["pkg-config", "--variable=libdir", "mst"], check=True,
                                    capture_output=True, text=True).stdout.strip()
        except subprocess.CalledProcessError:
            libdir = ""
        if libdir:
            yield os.path.join(libdir, SONAME)
    found = ctypes.util.find_library("mst")
    if found:
        yield found
    yield SONAME


def load():
    """Loads libmst and declares every function's argument and result types."""
    tried = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            tried.append(f"{path}: {e}")
    else:
        raise OSError("libmst not found; set MST_LIB to the path of libmst.so, or install it "
                      "where pkg-config or the dynamic loader finds it. Tried:\n  "
                      + "\n  ".join(tried))
    for name, (restype, argtypes) in _abi.FUNCTIONS.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


lib = load()
