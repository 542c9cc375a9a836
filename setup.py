"""Build the Cython backend in place.

``python setup.py build_ext --inplace`` and ``pip install -e .`` both put the
compiled ``kernels/cython_sgd`` next to its source. Compiler directives are set
here, once. ``KERNELS_CYTHON_DEBUG=1`` turns bounds checking back on and drops
optimisation, for chasing an out-of-range index.
"""

import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("KERNELS_CYTHON_DEBUG") == "1"

if sys.platform == "win32":
    compile_args = ["/O2", "/fp:precise"]
else:
    # No fused multiply-add: float64 results must equal the Python reference.
    compile_args = ["-O0" if DEBUG else "-O3", "-ffp-contract=off"]

extensions = [
    Extension(
        "kernels.cython_sgd",
        ["kernels/cython_sgd.pyx"],
        extra_compile_args=compile_args,
    )
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": DEBUG,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": DEBUG,
        },
    ),
)
