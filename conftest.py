"""Shared test set-up: the backend x layout x dtype fixtures and Hypothesis profiles.

Every conformance test asks for ``backend`` (and ``layout``, ``dtype`` where they
matter), so a backend listed in :data:`kernels.BACKENDS` is tested by the whole
suite without another line of test code. The fixtures are session-scoped: they
only hand out names, and Hypothesis refuses function-scoped fixtures in
``@given`` tests.
"""

import os

import numpy as np
import pytest
from hypothesis import settings

import kernels

LAYOUTS = ("dense", "sparse")
DTYPES = (np.float32, np.float64)

# CI runs a fixed set of examples and prints how to reproduce a failure; at a
# desk the examples vary from run to run.
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", deadline=2000)
if os.environ.get("CI"):
    settings.load_profile("ci")
else:
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session", params=kernels.BACKENDS)
def backend(request):
    """Name of each backend this install can run."""
    return request.param


@pytest.fixture(
    scope="session", params=[name for name in kernels.BACKENDS if name != "python"]
)
def compared_backend(request):
    """Name of each backend other than the python reference it is compared to."""
    return request.param


@pytest.fixture(scope="session", params=LAYOUTS)
def layout(request):
    """The kernel layout passed as ``factorize(layout=...)``."""
    return request.param


@pytest.fixture(scope="session", params=DTYPES, ids=lambda d: np.dtype(d).name)
def dtype(request):
    """The working dtype passed as ``factorize(dtype=...)``."""
    return np.dtype(request.param)


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels():
    """Compile every JIT kernel once, before any example runs against a deadline.

    Numba compiles one specialization per argument type: each dtype, each
    layout, and read-only ratings are types of their own. A read-only array
    reaches the dense kernel unchanged when it is already C-ordered in the
    working dtype, and a Ratings hands its read-only indices to the sparse one.
    """
    if "numba" not in kernels.BACKENDS:
        return
    ratings = np.array([[1.0, 0.0], [2.0, 3.0]])
    triplets = kernels.datasets.Ratings([0, 1, 1], [0, 0, 1], [1.0, 2.0, 3.0])
    for dtype in DTYPES:
        read_only = ratings.astype(dtype)
        read_only.flags.writeable = False
        for layout in LAYOUTS:
            for given in (ratings.astype(dtype), read_only, triplets):
                kernels.factorize(
                    given,
                    1,
                    steps=1,
                    backend="numba",
                    seed=0,
                    layout=layout,
                    dtype=dtype,
                )
