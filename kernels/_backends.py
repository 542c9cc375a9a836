"""Which backends this install can run, and loading them by name.

A backend is a module with ``sgd_dense`` and ``sgd_sparse`` (see
:mod:`kernels.python_sgd` for the contract). Adding a backend means adding its
module here; the tests and benchmarks pick it up from :data:`kernels.BACKENDS`.
"""

import importlib
import logging
import os

from ._errors import BackendUnavailableError

logger = logging.getLogger(__name__)

MODULES = {
    "python": "kernels.python_sgd",
    "numpy": "kernels.numpy_sgd",
    "numba": "kernels.numba_sgd",
    "cython": "kernels.cython_sgd",
}

BUILD_HINT = (
    "build it with `python setup.py build_ext --inplace` or `pip install -e .` "
    "from the repository root"
)


def _check_cython(module):
    """Refuse an in-place build older than its .pyx source, or an incomplete one.

    Only a build inside a source checkout (setup.py beside the package) can go
    stale; an installed copy ships the .pyx written after the binary, so file
    ages there say nothing.
    """
    package = os.path.dirname(module.__file__)
    source = os.path.join(package, "cython_sgd.pyx")
    in_checkout = os.path.exists(os.path.join(package, os.pardir, "setup.py"))
    if (
        in_checkout
        and os.path.exists(source)
        and os.path.getmtime(source) > os.path.getmtime(module.__file__)
    ):
        return f"the compiled extension {module.__file__} is older than {source}"
    missing = [f for f in ("sgd_dense", "sgd_sparse") if not hasattr(module, f)]
    if missing:
        return f"the compiled extension lacks {', '.join(missing)}"
    return None


def _import(name):
    """(module, None) for a usable backend, else (None, reason)."""
    try:
        module = importlib.import_module(MODULES[name])
    except ImportError as exc:
        if name == "cython":
            return None, f"the compiled extension is not built ({exc}); {BUILD_HINT}"
        if name == "numba":
            return None, f"numba is not installed ({exc}); `pip install numba`"
        return None, str(exc)
    if name == "cython":
        stale = _check_cython(module)
        if stale:
            return None, f"{stale}; re-{BUILD_HINT}"
    return module, None


_LOADED = {name: _import(name) for name in MODULES}
for _name, (_module, _reason) in _LOADED.items():
    if _module is None:
        logger.debug("backend %r unavailable: %s", _name, _reason)

AVAILABLE = tuple(name for name, (module, _) in _LOADED.items() if module)


def load(name):
    """The module of backend ``name``; raise BackendUnavailableError if none."""
    available = ", ".join(repr(n) for n in AVAILABLE)
    if not isinstance(name, str) or name not in MODULES:
        raise BackendUnavailableError(
            f"backend must be one of {available}, got {name!r}"
        )
    module, reason = _LOADED[name]
    if module is None:
        raise BackendUnavailableError(
            f"backend {name!r} is not available: {reason}. "
            f"Available backends: {available}"
        )
    return module
