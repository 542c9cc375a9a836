"""Which backends load, and what the user is told when one cannot.

The real extension and the installed Numba are never touched: the Cython checks
run against a fake module in a temporary directory, and a missing Numba is
simulated in a subprocess.
"""

import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import kernels
from kernels import BackendUnavailableError, _backends

BUILD_COMMAND = "python setup.py build_ext --inplace"


def fake_extension(tmp_path, source_age, complete=True, in_checkout=True):
    """A module object standing for kernels/cython_sgd.*.so, with its .pyx
    ``source_age`` seconds older than the binary (negative: newer), inside a
    source checkout (setup.py one level up) or an installed copy."""
    package = tmp_path / "kernels"
    package.mkdir()
    if in_checkout:
        (tmp_path / "setup.py").write_text("")
    binary = package / "cython_sgd.cpython-311-x86_64-linux-gnu.so"
    source = package / "cython_sgd.pyx"
    binary.write_bytes(b"")
    source.write_text("")
    os.utime(binary, (1_000_000, 1_000_000))
    os.utime(source, (1_000_000 - source_age, 1_000_000 - source_age))
    module = types.ModuleType("kernels.cython_sgd")
    module.__file__ = str(binary)
    module.sgd_dense = lambda *args: None
    if complete:
        module.sgd_sparse = lambda *args: None
    return module


def load_with(monkeypatch, name, reason):
    """kernels._backends.load(name) as if the import had given ``reason``."""
    monkeypatch.setitem(_backends._LOADED, name, (None, reason))
    with pytest.raises(BackendUnavailableError) as info:
        _backends.load(name)
    return info.value


def test_cython_extension_built_after_its_source_is_accepted(tmp_path):
    assert _backends._check_cython(fake_extension(tmp_path, source_age=60)) is None


def test_installed_extension_is_not_judged_by_file_age(tmp_path):
    # pip writes the .pyx of an installed copy after the binary it built
    module = fake_extension(tmp_path, source_age=-60, in_checkout=False)
    assert _backends._check_cython(module) is None


def test_stale_cython_extension_says_how_to_rebuild(tmp_path, monkeypatch):
    module = fake_extension(tmp_path, source_age=-60)
    monkeypatch.setattr(
        _backends, "importlib", types.SimpleNamespace(import_module=lambda name: module)
    )

    loaded, reason = _backends._import("cython")

    assert loaded is None
    assert "is older than" in reason and "cython_sgd.pyx" in reason
    assert BUILD_COMMAND in reason
    error = load_with(monkeypatch, "cython", reason)
    assert "backend 'cython' is not available" in str(error)
    assert BUILD_COMMAND in str(error)


def test_incomplete_cython_extension_is_refused(tmp_path, monkeypatch):
    module = fake_extension(tmp_path, source_age=60, complete=False)
    monkeypatch.setattr(
        _backends, "importlib", types.SimpleNamespace(import_module=lambda name: module)
    )

    loaded, reason = _backends._import("cython")

    assert loaded is None
    assert "lacks sgd_sparse" in reason and BUILD_COMMAND in reason


def test_unbuilt_cython_extension_says_how_to_build(monkeypatch):
    monkeypatch.setitem(_backends.MODULES, "cython", "kernels._no_such_extension")

    loaded, reason = _backends._import("cython")

    assert loaded is None
    assert "not built" in reason and BUILD_COMMAND in reason
    error = load_with(monkeypatch, "cython", reason)
    assert isinstance(error, ValueError)
    for name in kernels.BACKENDS:
        assert repr(name) in str(error)


MISSING_NUMBA = textwrap.dedent(
    """
    import sys
    sys.modules["numba"] = None  # makes `import numba` raise ImportError

    import numpy as np
    import kernels

    assert "numba" not in kernels.BACKENDS, kernels.BACKENDS
    ratings = np.array([[5.0, 0.0], [1.0, 4.0]])
    for backend in kernels.BACKENDS:
        kernels.factorize(ratings, 1, steps=3, seed=0, backend=backend)
    try:
        kernels.factorize(ratings, 1, steps=3, seed=0, backend="numba")
    except kernels.BackendUnavailableError as error:
        print(error)
    else:
        raise AssertionError("backend='numba' ran without numba")
    print(",".join(kernels.BACKENDS))
    """
)


def test_missing_numba_leaves_other_backends_working():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root}

    done = subprocess.run(
        [sys.executable, "-c", MISSING_NUMBA],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    message, available = done.stdout.strip().splitlines()
    assert "backend 'numba' is not available" in message
    assert "pip install numba" in message
    expected = [name for name in kernels.BACKENDS if name != "numba"]
    assert available.split(",") == expected
    assert np.all([repr(name) in message for name in expected])


def test_every_backend_is_available_in_a_full_install():
    """A test run that silently lost a backend would test nothing about it.

    The conformance suite only covers what kernels.BACKENDS lists, so a missing
    Cython build or Numba install must fail here rather than shrink the suite.
    """
    missing = {name: _backends._LOADED[name][1] for name in _backends.MODULES}
    missing = {name: reason for name, reason in missing.items() if reason}
    assert not missing, f"backends not available: {missing}"
    assert kernels.BACKENDS == tuple(_backends.MODULES)
