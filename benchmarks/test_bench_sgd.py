"""How fast each backend factorizes, on the classic case and on MovieLens.

Cases (one benchmark group each):

- ``seed-30x60-k8``: ``synthetic(30, 60, density=0.5, seed=0)`` (900 ratings),
  8 factors, the tutorial's settings (steps=5000, alpha=0.0002, beta=0.02,
  tol=0.001), dense layout;
- ``ml-small-k8-sparse``, ``ml-small-k32-sparse``: MovieLens ml-latest-small
  (100,004 ratings, 671 x 9066), 8 and 32 factors, 20 steps, tol=None, sparse
  layout. Skipped when the data are not installed.

The compiled backends run the full step count; python and numpy run fewer
sweeps (the count is in the id), which is fair because backends are ranked by
updates per second, ``n_ratings * steps / median``, a rate that does not depend
on the number of sweeps. Factors start from ``seed=0`` everywhere.

Numba gets two more figures per case, on the kernel itself: ``compile`` (a fresh
dispatcher of the kernel's Python function, compiled for the signature the
module's dispatcher was warmed with) and ``first_call`` (a fresh dispatcher
called once on the case's arrays: what a process pays without the disk
cache, measured where numba itself is already imported and warm, so a new
process pays somewhat more). Steady-state rounds never include compilation: a fixture warms the
backend first.
"""

from dataclasses import dataclass

import numpy as np
import pytest

import kernels
from kernels import _validation, datasets, factorize
from kernels.api import _kernel_args


@dataclass(frozen=True)
class Case:
    """One problem: which ratings, how many factors, which kernel and settings."""

    name: str
    data: str
    n_factors: int
    layout: str
    tol: float | None
    alpha: float = 0.0002
    beta: float = 0.02


CLASSIC = Case("seed-30x60-k8", "seed-30x60", 8, "dense", tol=0.001)
ML_K8 = Case("ml-small-k8-sparse", "ml-small", 8, "sparse", tol=None)
ML_K32 = Case("ml-small-k32-sparse", "ml-small", 32, "sparse", tol=None)

# Sweeps per call: the compiled backends do the real job, python and numpy a
# slice of it that still takes long enough to time.
STEPS = {
    CLASSIC: {"python": 20, "numpy": 20, "numba": 5000, "cython": 5000},
    ML_K8: {"python": 1, "numpy": 1, "numba": 20, "cython": 20},
    ML_K32: {"python": 1, "numpy": 1, "numba": 20, "cython": 20},
}

# Fixed rounds for calls of a second or more (python at k32 takes 4-10 s);
# the rest let pytest-benchmark calibrate (at least 5 rounds, about 1 s).
ROUNDS = {
    (ML_K8, "python"): 2,
    (ML_K32, "python"): 1,
    (ML_K8, "numpy"): 3,
    (ML_K32, "numpy"): 3,
}

# A compile or a first call takes 0.5-2 s and barely varies.
STARTUP_ROUNDS = 3

KERNEL_NAME = {"dense": "sgd_dense", "sparse": "sgd_sparse"}

needs_numba = pytest.mark.skipif(
    "numba" not in kernels.BACKENDS, reason="the numba backend is not available"
)


def _in_group(case, *values, id):
    return pytest.param(
        case, *values, id=id, marks=pytest.mark.benchmark(group=case.name)
    )


STEADY = [
    _in_group(
        case,
        backend,
        STEPS[case][backend],
        id=f"{backend}-{case.name}-steps{STEPS[case][backend]}",
    )
    for case in STEPS
    for backend in kernels.BACKENDS
]
NUMBA_COMPILE = [_in_group(case, id=f"numba-{case.name}") for case in STEPS]
NUMBA_FIRST_CALL = [
    _in_group(
        case, STEPS[case]["numba"], id=f"numba-{case.name}-steps{STEPS[case]['numba']}"
    )
    for case in STEPS
]


def _load(data):
    """The ratings named ``data``; skips when MovieLens is not installed."""
    if data == "seed-30x60":
        return datasets.synthetic(30, 60, density=0.5, seed=0)
    try:
        return datasets.movielens_small()
    except kernels.DataNotFoundError as exc:
        pytest.skip(f"MovieLens case skipped, no data: {exc}")


def _sizes(ratings):
    """(n_users, n_items, n_ratings) of a dense matrix or a Ratings."""
    if isinstance(ratings, np.ndarray):
        return (*ratings.shape, int(np.count_nonzero(ratings)))
    return (*ratings.shape, ratings.n_ratings)


@pytest.fixture
def ratings(case):
    """The case's ratings: a dense matrix or a Ratings."""
    return _load(case.data)


@pytest.fixture
def sizes(ratings):
    """n_users, n_items and n_ratings of the case, as keyword arguments."""
    n_users, n_items, n_ratings = _sizes(ratings)
    return {"n_users": n_users, "n_items": n_items, "n_ratings": n_ratings}


@pytest.fixture
def warm(case, backend, ratings):
    """Run one sweep first so that JIT compilation stays out of timed rounds."""
    if backend == "numba":
        factorize(
            ratings,
            case.n_factors,
            steps=1,
            tol=case.tol,
            backend=backend,
            seed=0,
            layout=case.layout,
        )


@pytest.mark.parametrize(("case", "backend", "steps"), STEADY)
def test_steady_state(benchmark, record, warm, case, backend, steps, ratings, sizes):
    options = {
        "steps": steps,
        "alpha": case.alpha,
        "beta": case.beta,
        "tol": case.tol,
        "backend": backend,
        "seed": 0,
        "layout": case.layout,
    }
    n_compiled = _n_numba_signatures(case.layout)

    rounds = ROUNDS.get((case, backend))
    if rounds is None:
        result = benchmark(factorize, ratings, case.n_factors, **options)
    else:
        result = benchmark.pedantic(
            factorize, args=(ratings, case.n_factors), kwargs=options, rounds=rounds
        )

    assert _n_numba_signatures(case.layout) == n_compiled, "numba compiled while timed"
    assert result.steps_run == steps
    record(
        figure="steady",
        case=case.name,
        backend=backend,
        layout=case.layout,
        n_factors=case.n_factors,
        steps=result.steps_run,
        rmse=result.rmse(ratings),
        **sizes,
    )


def _n_numba_signatures(layout):
    """How many specializations the module's numba kernel holds (0 without numba)."""
    if "numba" not in kernels.BACKENDS:
        return 0
    from kernels import numba_sgd

    return len(getattr(numba_sgd, KERNEL_NAME[layout]).signatures)


# -- numba start-up: compile and first call -------------------------------------


@pytest.fixture
def kernel_args(case, ratings):
    """The kernel's ratings arguments exactly as factorize prepares them."""
    observed = _validation.as_observed(ratings)
    return _kernel_args(observed, case.layout, np.dtype(np.float64))


@pytest.fixture
def initial_factors(case, sizes):
    """P then Q drawn as ``factorize(seed=0)`` draws them."""
    shape = (sizes["n_users"], sizes["n_items"])
    return _validation.init_factors(None, 0, shape, case.n_factors, np.float64)


def _scalars(case, steps):
    """steps, alpha, beta, tol, simultaneous as the wrapper passes them."""
    tol = -1.0 if case.tol is None else float(case.tol)
    return steps, np.float64(case.alpha), np.float64(case.beta), tol, False


@pytest.fixture
def signature(case, kernel_args, initial_factors):
    """The signature of these arguments, from the module's warmed dispatcher."""
    import numba

    from kernels import numba_sgd

    module_kernel = getattr(numba_sgd, KERNEL_NAME[case.layout])
    P, Q = (a.copy() for a in initial_factors)
    args = (*kernel_args, P, Q, *_scalars(case, 1))
    module_kernel(*args)

    wanted = tuple(numba.typeof(a) for a in args)
    matching = [s for s in module_kernel.signatures if tuple(s) == wanted]
    assert matching, f"no compiled signature {wanted} in {module_kernel.signatures}"
    return matching[0]


def _fresh_kernel(layout):
    """A new, empty dispatcher of the kernel's Python function (no disk cache)."""
    import numba

    from kernels import numba_sgd

    return numba.njit(getattr(numba_sgd, KERNEL_NAME[layout]).py_func)


def _compile(kernel, signature):
    kernel.compile(signature)


def _call(kernel, *args):
    return kernel(*args)


@needs_numba
@pytest.mark.parametrize("case", NUMBA_COMPILE)
def test_numba_compile(benchmark, record, case, signature, sizes):
    def fresh():
        return (_fresh_kernel(case.layout), signature), {}

    benchmark.pedantic(_compile, setup=fresh, rounds=STARTUP_ROUNDS)

    # No sweep runs, so there is no rate and no RMSE to report.
    record(
        figure="compile",
        case=case.name,
        backend="numba",
        layout=case.layout,
        n_factors=case.n_factors,
        steps=0,
        **sizes,
    )


@needs_numba
@pytest.mark.parametrize(("case", "steps"), NUMBA_FIRST_CALL)
def test_numba_first_call(
    benchmark,
    record,
    case,
    steps,
    ratings,
    sizes,
    kernel_args,
    initial_factors,
    signature,
):
    last = {}

    def fresh():
        kernel = _fresh_kernel(case.layout)
        P, Q = (a.copy() for a in initial_factors)
        last.update(kernel=kernel, P=P, Q=Q)
        return (kernel, *kernel_args, P, Q, *_scalars(case, steps)), {}

    steps_run, _, finite = benchmark.pedantic(_call, setup=fresh, rounds=STARTUP_ROUNDS)

    assert finite
    fit = kernels.Factorization(
        last["P"], last["Q"], int(steps_run), None, "numba", case.layout
    )
    # Numba's own timer of the compilation inside the last timed call.
    timers = last["kernel"].get_metadata(signature).get("timers", {})
    record(
        figure="first_call",
        case=case.name,
        backend="numba",
        layout=case.layout,
        n_factors=case.n_factors,
        steps=steps_run,
        rmse=fit.rmse(ratings),
        compile_s=timers.get("compiler_lock"),
        **sizes,
    )
