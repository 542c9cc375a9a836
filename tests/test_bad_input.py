"""Bad input: one error contract for every backend.

Each error is a :class:`kernels.KernelsError` and the built-in exception that
fits; its message names the parameter, the rule, the value and, where there is
one, the fix. Nothing the caller passed is modified on the way to the error.
"""

import copy
import re
import types

import numpy as np
import pytest
import scipy.sparse

import kernels
from kernels import (
    BackendUnavailableError,
    DivergenceError,
    InvalidParameterError,
    InvalidRatingsError,
    InvalidTypeError,
    KernelsError,
)

TUTORIAL = np.array(
    [[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5], [1, 0, 0, 4], [0, 1, 5, 4]]
)
INT64_MAX = int(np.iinfo(np.int64).max)


def raises_unchanged(error, match, ratings, backend, **kwargs):
    """Assert factorize raises ``error`` matching ``match`` and leaves its inputs
    (arrays, and arrays inside tuples and init) as they were."""
    arrays = [ratings] if isinstance(ratings, np.ndarray) else []
    if isinstance(ratings, tuple):
        arrays += [a for a in ratings if isinstance(a, np.ndarray)]
    arrays += [a for a in kwargs.get("init") or () if isinstance(a, np.ndarray)]
    copies = [a.copy() for a in arrays]

    with pytest.raises(error, match=match) as info:
        kernels.factorize(ratings, backend=backend, **kwargs)

    assert isinstance(info.value, KernelsError)
    for array, before in zip(arrays, copies):
        np.testing.assert_array_equal(array, before)
    return info.value


# -- ratings -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, rule",
    [(-1.0, r"must be >= 0"), (np.nan, r"must be finite"), (np.inf, r"must be finite")],
)
def test_bad_dense_rating_names_the_cell(backend, value, rule):
    ratings = TUTORIAL.astype(float)
    ratings[3, 2] = value

    error = raises_unchanged(InvalidRatingsError, rule, ratings, backend)

    assert isinstance(error, ValueError)
    assert "row 3, column 2" in str(error)
    assert repr(value) in str(error) or str(value) in str(error)
    assert '0 means "not rated"' in str(error)


def test_bad_sparse_rating_names_the_cell(backend):
    ratings = (np.array([0, 1]), np.array([1, 0]), np.array([2.0, -0.5]))

    error = raises_unchanged(InvalidRatingsError, r"must be >= 0", ratings, backend)

    assert "row 1, column 0" in str(error) and "-0.5" in str(error)
    assert "every stored entry is a rating, 0 included" in str(error)


@pytest.mark.parametrize(
    "ratings",
    [np.array([1.0, 2.0]), np.ones((2, 2, 2)), np.float64(3.0)],
    ids=["1-D", "3-D", "0-D"],
)
def test_ratings_must_be_2d(backend, ratings):
    error = raises_unchanged(InvalidRatingsError, r"2-D array", ratings, backend)
    assert f"shape {ratings.shape}" in str(error)


def test_ragged_ratings_are_refused(backend):
    error = raises_unchanged(
        InvalidRatingsError,
        r"ratings must be a 2-D numeric array .*got a list",
        [[1, 2], [3]],
        backend,
    )
    assert isinstance(error, ValueError)


def test_ragged_triplets_are_refused(backend):
    ratings = (np.array([0, 1]), np.array([1, 0]), [[1.0, 2.0], [3.0]])
    raises_unchanged(
        InvalidRatingsError,
        r"values must be a 1-D numeric array, got a list",
        ratings,
        backend,
    )


@pytest.mark.parametrize(
    "ratings",
    [
        np.zeros((3, 3)),
        scipy.sparse.csr_array((3, 3)),
        types.SimpleNamespace(
            rows=np.array([], int),
            cols=np.array([], int),
            values=np.array([]),
            shape=(3, 3),
        ),
    ],
    ids=["dense-zeros", "sparse-no-entries", "triplets-with-shape"],
)
def test_ratings_must_hold_a_rating(backend, layout, ratings):
    raises_unchanged(
        InvalidRatingsError,
        r"at least one rating, got none in a matrix of shape \(3, 3\)",
        ratings,
        backend,
        layout=layout,
    )


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0)])
def test_ratings_must_not_be_empty(backend, shape):
    raises_unchanged(
        InvalidRatingsError,
        "at least one user and one item, got shape " + re.escape(str(shape)),
        np.zeros(shape),
        backend,
    )


# Decided: only integer and real floating dtypes are ratings. bool would read
# True as a 1-star rating, complex has no order, strings and objects need a
# conversion the caller should choose.
@pytest.mark.parametrize(
    "ratings, dtype_name",
    [
        (np.array([["5", "3"], ["1", "0"]]), "<U1"),
        (np.array([[5, None]], dtype=object), "object"),
        (np.array([[5 + 0j, 3]]), "complex128"),
        (np.array([[True, False]]), "bool"),
    ],
    ids=["str", "object", "complex", "bool"],
)
def test_ratings_must_be_real_numbers(backend, ratings, dtype_name):
    error = raises_unchanged(
        InvalidTypeError, r"must hold real numbers", ratings, backend
    )
    assert isinstance(error, TypeError)
    assert f"got dtype {dtype_name}" in str(error)


def test_triplets_must_have_equal_lengths(backend):
    ratings = (np.array([0, 1, 2]), np.array([0, 1]), np.array([1.0, 2.0, 3.0]))
    raises_unchanged(
        InvalidRatingsError, r"same length, got 3, 2 and 3", ratings, backend
    )


def test_triplet_indices_must_not_be_negative(backend):
    ratings = (np.array([0, -1]), np.array([0, 1]), np.array([1.0, 2.0]))
    raises_unchanged(
        InvalidRatingsError,
        r"rows must be >= 0, got -1 at position 1",
        ratings,
        backend,
    )


def test_indices_must_fit_the_given_shape(backend):
    # a Ratings-like object: scipy and kernels.datasets.Ratings refuse to build one
    ratings = types.SimpleNamespace(
        rows=np.array([0, 1]),
        cols=np.array([0, 4]),
        values=np.array([1.0, 2.0]),
        shape=(2, 3),
    )
    raises_unchanged(
        InvalidRatingsError,
        r"cols must be < 3 for ratings of shape \(2, 3\), got 4",
        ratings,
        backend,
    )


@pytest.mark.parametrize("kind", ["triplets", "coo"])
def test_a_cell_may_be_rated_once(backend, kind):
    rows, cols, values = np.array([1, 0, 1]), np.array([2, 0, 2]), np.ones(3)
    if kind == "coo":
        ratings = scipy.sparse.coo_array((values, (rows, cols)), shape=(2, 3))
    else:
        ratings = (rows, cols, values)
    raises_unchanged(
        InvalidRatingsError,
        r"at most once, got \(1, 2\) more than once",
        ratings,
        backend,
    )


def test_dense_layout_refuses_zero_ratings(backend):
    ratings = (np.array([0, 1]), np.array([1, 0]), np.array([0.0, 2.0]))
    raises_unchanged(
        InvalidRatingsError,
        r"row 0, column 1.*layout='sparse'",
        ratings,
        backend,
        layout="dense",
    )


def test_float32_ratings_must_fit(backend):
    ratings = np.array([[1e39, 1.0]])
    raises_unchanged(
        InvalidRatingsError,
        r"fit in float32.*row 0, column 0",
        ratings,
        backend,
        dtype="float32",
    )


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"alpha": 1e39}, r"alpha must be representable in float32, got 1e\+39"),
        ({"alpha": 1e-60}, r"alpha must be representable in float32.*becomes 0\.0"),
        ({"beta": 1e39}, r"beta must be representable in float32.*becomes inf"),
    ],
)
def test_float32_parameters_must_survive_the_cast(backend, kwargs, match):
    """alpha lost to overflow or to 0, or beta lost to overflow, in float32 is
    refused before any sweep; a beta that underflows changes nothing."""
    error = raises_unchanged(
        InvalidParameterError, match, TUTORIAL, backend, dtype="float32", **kwargs
    )
    assert "dtype='float64'" in str(error)

    kernels.factorize(
        TUTORIAL, 2, steps=1, beta=1e-60, dtype="float32", backend=backend
    )


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("kind", ["dense", "triplets"])
def test_float32_ratings_must_not_round_to_zero(backend, layout, kind):
    ratings = TUTORIAL.astype(float)
    ratings[2, 2] = 1e-50
    if kind == "triplets":
        rows, cols = np.nonzero(ratings)
        ratings = (rows, cols, ratings[rows, cols])
    raises_unchanged(
        InvalidRatingsError,
        r"stay nonzero in float32.*1e-50 at row 2, column 2, which rounds to 0",
        ratings,
        backend,
        layout=layout,
        dtype="float32",
    )


def test_float32_keeps_the_smallest_float32_rating(backend, layout):
    """The check refuses only what float32 loses: its smallest subnormal, a
    rating float32 still holds, is trained on."""
    tiny = float(np.nextafter(np.float32(0), np.float32(1)))
    ratings = np.array([[tiny, 1.0], [2.0, 0.0]])

    result = kernels.factorize(
        ratings, 1, steps=1, seed=0, backend=backend, layout=layout, dtype="float32"
    )

    assert result.steps_run == 1


# -- parameters ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value, error, match",
    [
        ("n_factors", 0, InvalidParameterError, r"n_factors must be >= 1, got 0"),
        ("n_factors", -1, InvalidParameterError, r"n_factors must be >= 1, got -1"),
        ("n_factors", 2.5, InvalidTypeError, r"n_factors must be an integer.*2\.5"),
        ("n_factors", True, InvalidTypeError, r"n_factors must be an integer.*True"),
        ("n_factors", "8", InvalidTypeError, r"n_factors must be an integer.*'8'"),
        ("steps", -1, InvalidParameterError, r"steps must be >= 0, got -1"),
        ("steps", 10.0, InvalidTypeError, r"steps must be an integer.*10\.0"),
        (
            "steps",
            2**64,
            InvalidParameterError,
            rf"steps must be <= {INT64_MAX - 1}, got {2**64}",
        ),
        (
            "n_factors",
            2**63,
            InvalidParameterError,
            rf"n_factors must be <= {INT64_MAX}, got {2**63}",
        ),
        ("seed", "abc", InvalidTypeError, r"seed must be None, an integer >= 0.*'abc'"),
        ("seed", 1.5, InvalidTypeError, r"seed must be None, an integer >= 0.*1\.5"),
        ("seed", True, InvalidTypeError, r"seed must be None, an integer >= 0.*True"),
        ("seed", -1, InvalidParameterError, r"seed must be None, an integer >= 0.*-1"),
        ("alpha", 0.0, InvalidParameterError, r"alpha must be finite and > 0, got 0"),
        ("alpha", -0.1, InvalidParameterError, r"alpha must be finite and > 0.*-0\.1"),
        ("alpha", np.nan, InvalidParameterError, r"alpha must be finite.*nan"),
        ("alpha", np.inf, InvalidParameterError, r"alpha must be finite.*inf"),
        ("alpha", "0.1", InvalidTypeError, r"alpha must be a real number.*'0\.1'"),
        ("beta", -0.02, InvalidParameterError, r"beta must be finite and >= 0.*-0\.02"),
        ("tol", -1e-3, InvalidParameterError, r"tol must be finite and >= 0.*-0\.001"),
        ("dtype", "float16", InvalidParameterError, r"'float32' or 'float64'.*float16"),
        ("dtype", int, InvalidParameterError, r"'float32' or 'float64'.*int"),
        ("dtype", "garbage", InvalidParameterError, r"dtype must be .*'garbage'"),
        ("dtype", None, InvalidParameterError, r"dtype must be .*got None"),
        ("update", "adam", InvalidParameterError, r"update must be one of.*'adam'"),
        ("layout", "csr", InvalidParameterError, r"layout must be one of.*'csr'"),
    ],
)
def test_bad_parameter(backend, name, value, error, match):
    ratings = TUTORIAL.astype(float)

    raised = raises_unchanged(error, match, ratings, backend, **{name: value})

    builtin = TypeError if error is InvalidTypeError else ValueError
    assert isinstance(raised, builtin)


@pytest.mark.parametrize(
    "shapes, wrong",
    [
        (((5, 2), (4, 3)), r"init\[1\].*\(4, 2\).*got \(4, 3\)"),
        (((4, 2), (4, 2)), r"init\[0\].*\(5, 2\).*got \(4, 2\)"),
    ],
)
def test_init_must_have_the_expected_shapes(backend, shapes, wrong):
    init = tuple(np.ones(shape) for shape in shapes)
    raises_unchanged(
        InvalidParameterError,
        wrong,
        TUTORIAL.astype(float),
        backend,
        n_factors=2,
        init=init,
    )


def test_n_factors_too_large_to_allocate_is_refused(backend):
    raises_unchanged(
        InvalidParameterError,
        r"n_factors is too large for ratings of shape \(5, 4\).*smaller n_factors",
        TUTORIAL.astype(float),
        backend,
        n_factors=2**62,
    )


def test_steps_may_reach_one_below_the_int64_maximum(backend):
    """The bound on steps is the kernels' own: they loop to steps + 1 in int64,
    so the largest int64 is refused and the one below runs (and stops on tol
    after one sweep)."""
    raises_unchanged(
        InvalidParameterError, r"steps must be <=", TUTORIAL, backend, steps=INT64_MAX
    )

    result = kernels.factorize(
        TUTORIAL, 2, steps=INT64_MAX - 1, tol=1e9, seed=0, backend=backend
    )

    assert result.steps_run == 1


@pytest.mark.parametrize(
    "seed",
    [
        np.int64(3),
        np.random.SeedSequence(3),
        np.random.PCG64(3),
        np.random.default_rng(3),
    ],
    ids=["int64", "SeedSequence", "PCG64", "Generator"],
)
def test_seed_takes_what_default_rng_takes(backend, seed):
    """Every accepted kind of seed gives the factors of the plain int seed."""
    kwargs = {"steps": 3, "seed": seed, "backend": backend}
    if not isinstance(seed, np.integer):
        # a fresh object per backend: a Generator's state advances when drawn from
        kwargs["seed"] = copy.deepcopy(seed)
    expected = kernels.factorize(TUTORIAL, 2, steps=3, seed=3, backend=backend)

    result = kernels.factorize(TUTORIAL, 2, **kwargs)

    np.testing.assert_array_equal(result.user_factors, expected.user_factors)
    np.testing.assert_array_equal(result.item_factors, expected.item_factors)


def test_ragged_init_is_refused(backend):
    init = ([[1.0, 2.0], [3.0]], np.ones((4, 2)))
    raises_unchanged(
        InvalidParameterError,
        r"init\[0\] \(user factors\) must be a 2-D numeric array, got a list",
        TUTORIAL.astype(float),
        backend,
        n_factors=2,
        init=init,
    )


@pytest.mark.parametrize("value", [np.nan, -np.inf])
def test_init_must_be_finite(backend, value):
    user_init = np.ones((5, 2))
    user_init[3, 1] = value
    raises_unchanged(
        InvalidParameterError,
        rf"init\[0\].*must be finite, got {value!r} at row 3, column 1",
        TUTORIAL.astype(float),
        backend,
        n_factors=2,
        init=(user_init, np.ones((4, 2))),
    )


@pytest.mark.filterwarnings("error")
def test_init_must_fit_float32(backend):
    """A finite float64 factor beyond float32's range is refused before any
    sweep, with no NumPy overflow warning and no DivergenceError."""
    item_init = np.ones((4, 2))
    item_init[2, 0] = 1e300
    raises_unchanged(
        InvalidParameterError,
        r"init\[1\].*must fit in float32.*1e\+300 at row 2, column 0",
        TUTORIAL.astype(float),
        backend,
        n_factors=2,
        dtype="float32",
        init=(np.ones((5, 2)), item_init),
    )


def test_init_and_seed_are_exclusive(backend):
    init = (np.ones((5, 2)), np.ones((4, 2)))
    raises_unchanged(
        InvalidParameterError,
        r"either seed or init, not both.*seed=3",
        TUTORIAL.astype(float),
        backend,
        n_factors=2,
        init=init,
        seed=3,
    )


# -- backends ------------------------------------------------------------------


def test_unknown_backend_lists_the_available_ones():
    with pytest.raises(
        BackendUnavailableError, match=r"backend must be one of"
    ) as info:
        kernels.factorize(TUTORIAL, backend="fortran")

    assert isinstance(info.value, ValueError)
    assert "'fortran'" in str(info.value)
    for name in kernels.BACKENDS:
        assert repr(name) in str(info.value)


# -- divergence ----------------------------------------------------------------


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("tol", [0.001, None])
def test_too_large_alpha_raises_divergence(backend, layout, dtype, tol):
    """alpha=0.1 on the tutorial matrix overflows; every backend says so, in
    which step, and suggests a smaller alpha, with no NumPy warning leaking."""
    ratings = TUTORIAL.copy()

    with pytest.raises(DivergenceError, match=r"in step \d+ .*smaller alpha") as info:
        kernels.factorize(
            ratings,
            2,
            alpha=0.1,
            seed=0,
            tol=tol,
            backend=backend,
            layout=layout,
            dtype=dtype,
        )

    assert isinstance(info.value, FloatingPointError)
    assert "alpha=0.1" in str(info.value)
    np.testing.assert_array_equal(ratings, TUTORIAL)


# -- masked arrays -------------------------------------------------------------


def test_masked_cells_are_not_rated(backend, layout):
    """A masked array trains like its filled(0) copy: masked cells, whatever
    they hide (here a NaN and a 9), are "not rated"; the array is not modified."""
    data = TUTORIAL.astype(float)
    data[1, 1], data[0, 3] = np.nan, 9.0
    mask = np.zeros(data.shape, bool)
    mask[1, 1] = mask[0, 3] = True
    ratings = np.ma.masked_array(data, mask=mask)
    filled = np.where(mask, 0.0, data)
    kwargs = {"steps": 20, "seed": 1, "backend": backend, "layout": layout}

    result = kernels.factorize(ratings, 2, **kwargs)

    expected = kernels.factorize(filled, 2, **kwargs)
    np.testing.assert_array_equal(result.user_factors, expected.user_factors)
    np.testing.assert_array_equal(result.item_factors, expected.item_factors)
    # the mask matters: trained on, the hidden 9 would change user 0's factors
    with_nine = kernels.factorize(np.nan_to_num(data), 2, **kwargs)
    assert not np.array_equal(with_nine.user_factors[0], result.user_factors[0])
    np.testing.assert_array_equal(ratings.mask, mask)
    np.testing.assert_array_equal(np.ma.getdata(ratings), data)


# -- rmse and masked_loss ------------------------------------------------------


def test_rmse_on_held_out_triplets_uses_the_training_shape(backend):
    """Held-out triplets that miss the last user and item are scored on the
    training shape, not on the shape their largest indices suggest."""
    result = kernels.factorize(TUTORIAL, 2, steps=10, seed=0, backend=backend)
    rows, cols, values = np.array([0, 2]), np.array([2, 1]), np.array([4.0, 2.0])
    predicted = result.predict()[rows, cols]

    rmse = result.rmse((rows, cols, values))

    assert rmse == pytest.approx(np.sqrt(np.mean((values - predicted) ** 2)))
    with pytest.raises(InvalidRatingsError, match=r"rows must be < 5 .*got 5"):
        result.rmse((np.array([5]), np.array([0]), np.array([1.0])))
    with pytest.raises(InvalidRatingsError, match=r"training shape \(5, 4\)"):
        result.rmse(TUTORIAL[:, :3])


P_OK, Q_OK = np.ones((5, 2)), np.ones((4, 2))


@pytest.mark.parametrize(
    "user_factors, item_factors, error, match",
    [
        (
            P_OK,
            np.ones((4, 3)),
            InvalidParameterError,
            r"item_factors must have shape \(n_items, 2\).*got \(4, 3\)",
        ),
        (
            np.ones(5),
            Q_OK,
            InvalidParameterError,
            r"user_factors must have shape \(n_users, n_factors\).*got \(5,\)",
        ),
        (
            np.ones((4, 2)),
            Q_OK,
            InvalidParameterError,
            r"user_factors and item_factors .*\(5, 2\) and \(4, 2\).*got \(4, 2\)",
        ),
        (
            P_OK,
            np.full((4, 2), np.nan),
            InvalidParameterError,
            r"item_factors must be finite, got nan at row 0, column 0",
        ),
        (
            np.full((5, 2), "a"),
            Q_OK,
            InvalidTypeError,
            r"user_factors must hold real numbers",
        ),
        (
            [[1.0], [2.0, 3.0]],
            Q_OK,
            InvalidParameterError,
            r"user_factors must be a 2-D numeric array",
        ),
    ],
    ids=["n-factors-differ", "1-D", "rows-differ", "nan", "strings", "ragged"],
)
@pytest.mark.parametrize("as_tuple", [False, True], ids=["dense", "triplets"])
def test_masked_loss_names_the_bad_factors(
    user_factors, item_factors, error, match, as_tuple
):
    ratings = TUTORIAL
    if as_tuple:
        rows, cols = np.nonzero(TUTORIAL)
        ratings = (rows, cols, TUTORIAL[rows, cols])
    if as_tuple and match.startswith("user_factors and"):
        # a tuple takes its shape from the factors; then row 4 is out of range
        error, match = InvalidRatingsError, r"rows must be < 4"

    with pytest.raises(error, match=match):
        kernels.masked_loss(ratings, user_factors, item_factors)


def test_masked_loss_takes_held_out_triplets():
    P, Q = np.arange(10.0).reshape(5, 2) / 10, np.arange(8.0).reshape(4, 2) / 10
    rows, cols, values = np.array([0, 1]), np.array([1, 0]), np.array([3.0, 4.0])
    dense = np.zeros((5, 4))
    dense[rows, cols] = values

    assert kernels.masked_loss((rows, cols, values), P, Q) == kernels.masked_loss(
        dense, P, Q
    )
