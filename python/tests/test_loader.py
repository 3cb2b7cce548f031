"""Where the package finds libmst: $MST_LIB, else pkg-config's libdir, else the loader."""
import os
import shutil
import subprocess
import sys

import pytest

import mst

WHICH = "import mst; print(mst.lib._name)"


def run(env):
    return subprocess.run([sys.executable, "-c", WHICH], env=env, capture_output=True, text=True)


@pytest.fixture
def prefix(tmp_path):
    """A fake install prefix: libdir holds libmst.so.1 and pkgconfig/mst.pc points at it."""
    libdir = tmp_path / "lib"
    (libdir / "pkgconfig").mkdir(parents=True)
    shutil.copy(mst.lib._name, libdir / "libmst.so.1")
    (libdir / "pkgconfig" / "mst.pc").write_text(
        f"prefix={tmp_path}\nlibdir={libdir}\nincludedir={tmp_path}/include\n\n"
        "Name: mst\nDescription: test\nVersion: 1.0.0\nLibs: -L${libdir} -lmst\n")
    return libdir


@pytest.mark.skipif(not shutil.which("pkg-config"), reason="pkg-config is not installed")
def test_without_mst_lib_the_pkg_config_libdir_is_used(prefix):
    env = {k: v for k, v in os.environ.items() if k != "MST_LIB"}
    env["PKG_CONFIG_PATH"] = str(prefix / "pkgconfig")
    out = run(env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(prefix / "libmst.so.1")


def test_mst_lib_wins_and_a_wrong_one_is_not_replaced_by_another(prefix, tmp_path):
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "pkgconfig"),
               MST_LIB=str(tmp_path / "missing.so"))
    out = run(env)
    assert out.returncode != 0
    assert "libmst not found" in out.stderr and "missing.so" in out.stderr


def test_without_mst_lib_or_pkg_config_the_loader_path_is_searched(prefix, tmp_path):
    """No $MST_LIB, pkg-config knows no `mst`: the dynamic loader finds libmst.so.1 through
    LD_LIBRARY_PATH (the package's last fallback)."""
    empty = tmp_path / "no-pkgconfig"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MST_LIB"}
    # PKG_CONFIG_LIBDIR replaces pkg-config's default search path, so an installed mst.pc
    # cannot answer either.
    env.update(PKG_CONFIG_PATH=str(empty), PKG_CONFIG_LIBDIR=str(empty),
               LD_LIBRARY_PATH=str(prefix))
    maps = ("import mst; print(mst.lib._name); "
            "print(*sorted({l.split()[-1] for l in open('/proc/self/maps') if 'libmst' in l}))")
    out = subprocess.run([sys.executable, "-c", maps], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    name, loaded = out.stdout.split("\n")[:2]
    assert name == "libmst.so.1"
    assert loaded == str(prefix / "libmst.so.1"), f"loaded {loaded!r}"
