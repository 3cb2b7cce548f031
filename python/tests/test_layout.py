"""The ctypes mirrors equal what the C compiler makes of mst.h, checked against the live
compiler (scripts/abi-layout.sh print compiles a program against the header), not only
against the committed abi/layout.txt."""
import ctypes as C
import importlib.util
import pathlib
import subprocess

import pytest

import mst
from mst import _abi


@pytest.fixture(scope="module")
def compiler_layout():
    repo = pathlib.Path(__file__).resolve().parents[2]
    out = subprocess.run(["bash", str(repo / "scripts/abi-layout.sh"), "print"], check=True,
                         capture_output=True, text=True).stdout
    structs, fields, values = {}, {}, {}
    for line in out.splitlines():
        w = line.split()
        if w[0] == "struct":
            structs[w[1]] = (int(w[3]), int(w[5]))
        elif w[0] == "field":
            fields[w[1]] = (int(w[3]), int(w[5]))
        elif w[0] == "value":
            values[w[1]] = int(w[2])
    assert structs and fields and values, "abi-layout.sh printed no layout"
    return out, structs, fields, values


def test_every_struct_has_the_compilers_size_and_alignment(compiler_layout):
    _, structs, _, _ = compiler_layout
    assert set(_abi.STRUCTS) == set(structs)
    for name, (size, align) in structs.items():
        cls = _abi.STRUCTS[name]
        assert (C.sizeof(cls), C.alignment(cls)) == (size, align), name


def field_mismatches(classes, fields):
    """{field: (ctypes offset and size, C offset and size)} for every field that differs or
    exists on one side only (None)."""
    mine = {f"{name}.{field}": (getattr(cls, field).offset, getattr(cls, field).size)
            for name, cls in classes.items() for field, _ in cls._fields_}
    return {f: (mine.get(f), fields.get(f)) for f in set(mine) | set(fields)
            if mine.get(f) != fields.get(f)}


def test_every_field_has_the_compilers_offset_and_size(compiler_layout):
    _, _, fields, _ = compiler_layout
    wrong = field_mismatches(_abi.STRUCTS, fields)
    assert not wrong, f"(ctypes, C) offset and size differ: {wrong}"


def test_a_mirror_missing_a_field_is_caught(compiler_layout):
    """examples/ffi_python.py once had a VideoFrameInfo 8 bytes short of the C struct; the
    comparison above names such a field."""
    _, structs, fields, _ = compiler_layout

    # The last field missing, as then (the struct has grown since: 1.3's `received`).
    class MstVideoFrameInfo(C.Structure):
        _fields_ = _abi.MstVideoFrameInfo._fields_[:-1]

    last = "MstVideoFrameInfo." + _abi.MstVideoFrameInfo._fields_[-1][0]
    classes = dict(_abi.STRUCTS, MstVideoFrameInfo=MstVideoFrameInfo)
    assert field_mismatches(classes, fields) == {last: (None, fields[last])}
    assert C.sizeof(MstVideoFrameInfo) != structs["MstVideoFrameInfo"][0]


def test_every_constant_has_the_headers_value(compiler_layout):
    _, _, _, values = compiler_layout
    for name, value in values.items():
        assert getattr(_abi, name) == value, name


def test_the_generated_module_is_current(compiler_layout):
    """_abi.py (structs, constants and every function's ctypes signature) is what
    gen_abi.py writes from today's header: a function added or changed in mst.h fails here
    until the file is regenerated."""
    out = compiler_layout[0]
    gen = pathlib.Path(__file__).resolve().parents[1] / "gen_abi.py"
    spec = importlib.util.spec_from_file_location("gen_abi", gen)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert pathlib.Path(_abi.__file__).read_text() == module.render(out), (
        "python/src/mst/_abi.py is stale: run python3 python/gen_abi.py")


def test_every_function_is_declared():
    for name, (restype, argtypes) in _abi.FUNCTIONS.items():
        fn = getattr(mst.lib, name)
        assert (fn.restype, fn.argtypes) == (restype, argtypes), name
