"""Input checks shared by every backend.

The public wrapper runs these before any kernel sees the data, so a kernel can
trust that it receives C-contiguous arrays of the working dtype, finite
non-negative ratings and observed cells sorted row-major. Nothing here writes to
the caller's arrays: every conversion either returns the input untouched (when
it is already usable and is only read) or a new array.
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ._errors import (
    InvalidParameterError,
    InvalidRatingsError,
    InvalidTypeError,
)

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
UPDATES = ("tutorial", "simultaneous")
LAYOUTS = ("dense", "sparse")


@dataclass(frozen=True)
class Observed:
    """Ratings brought to one canonical form; built by :func:`as_observed`.

    ``dense`` is the (n_users, n_items) float64 matrix when the input was dense,
    else None. ``rows``, ``cols`` and ``values`` always list the observed cells
    in row-major order.
    """

    shape: tuple
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    dense: np.ndarray | None

    @property
    def n_ratings(self):
        return self.values.shape[0]


# -- parameters ----------------------------------------------------------------


# The kernels count in int64 (numba's int64, Cython's Py_ssize_t), and loop
# over range(1, steps + 1), so steps stays one below the int64 maximum.
INT64_MAX = int(np.iinfo(np.int64).max)
MAX_STEPS = INT64_MAX - 1


def check_int(name, value, minimum, maximum=INT64_MAX):
    """Return ``value`` as an int if it is an integer in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidTypeError(
            f"{name} must be an integer >= {minimum}, got {value!r} "
            f"of type {type(value).__name__}"
        )
    if value < minimum:
        raise InvalidParameterError(f"{name} must be >= {minimum}, got {value!r}")
    if value > maximum:
        raise InvalidParameterError(f"{name} must be <= {maximum}, got {value!r}")
    return int(value)


def check_seed(seed):
    """Return ``seed`` if ``numpy.random.default_rng`` may take it."""
    rule = "None, an integer >= 0, a numpy Generator, BitGenerator or SeedSequence"
    if seed is None or isinstance(
        seed,
        (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence),
    ):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InvalidTypeError(
            f"seed must be {rule}, got {seed!r} of type {type(seed).__name__}"
        )
    if seed < 0:
        raise InvalidParameterError(f"seed must be {rule}, got {seed!r}")
    return int(seed)


def check_real(name, value, *, positive=False, allow_none=False):
    """Return ``value`` as a float if it is finite and > 0 (or >= 0)."""
    if value is None and allow_none:
        return None
    rule = "> 0" if positive else ">= 0"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(
            f"{name} must be a real number {rule}, got {value!r} "
            f"of type {type(value).__name__}"
        )
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise InvalidParameterError(f"{name} must be finite and {rule}, got {value!r}")
    return value


def check_fits_dtype(name, value, dtype, *, positive=False):
    """``value`` as a ``dtype`` scalar; raise if the cast loses it.

    A float64 parameter that overflows to inf in float32 would break every
    sweep, and a positive one (alpha) that underflows to 0 would stop all
    learning without a word. A beta that underflows changes nothing that
    float32 could have shown.
    """
    with np.errstate(over="ignore", under="ignore"):
        cast = dtype.type(value)
    if not np.isfinite(cast) or (positive and cast == 0):
        raise InvalidParameterError(
            f"{name} must be representable in {dtype.name}, got {value!r}, which "
            f"becomes {cast.item()!r}; use dtype='float64'"
        )
    return cast


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise InvalidParameterError(f"{name} must be one of {listed}, got {value!r}")
    return value


def check_dtype(dtype):
    """Return the numpy dtype for ``dtype`` if it is float32 or float64."""
    # np.dtype(None) is float64, and a dtype compares equal to None for the
    # same reason, so None is refused by name rather than by resolving it.
    resolved = None
    if dtype is not None:
        try:
            resolved = np.dtype(dtype)
        except (TypeError, ValueError):
            pass
    if resolved is None or resolved not in DTYPES:
        raise InvalidParameterError(
            f"dtype must be 'float32' or 'float64', got {dtype!r}"
        )
    return resolved


# -- ratings -------------------------------------------------------------------


def _as_array(name, value, rule, error=InvalidRatingsError):
    """``np.asarray(value)``, or ``error`` saying that ``name`` must be ``rule``."""
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as exc:
        # ragged nested lists, mostly: NumPy's message says where the rows differ
        raise error(
            f"{name} must be {rule}, got a {type(value).__name__} that NumPy "
            f"cannot read as one ({exc})"
        ) from exc


def _first_bad(mask, values, where):
    """Message fragment naming the first cell of ``mask`` (row-major)."""
    k = int(np.flatnonzero(mask)[0])
    row, col = where(k)
    return f"row {row}, column {col}: {values[k].item()!r}"


def _check_numeric(name, array):
    if array.dtype.kind not in "iuf":
        raise InvalidTypeError(
            f"{name} must hold real numbers (integer or float dtype), "
            f"got dtype {array.dtype}"
        )


def _check_values(values, where, zero_meaning):
    """Raise if any rating is NaN, infinite or negative."""
    if values.dtype.kind == "f":
        bad = ~np.isfinite(values)
        if bad.any():
            cell = _first_bad(bad, values, where)
            raise InvalidRatingsError(
                f"ratings must be finite, got {cell}; {zero_meaning}"
            )
    bad = values < 0
    if bad.any():
        cell = _first_bad(bad, values, where)
        raise InvalidRatingsError(f"ratings must be >= 0, got {cell}; {zero_meaning}")


def _dense(ratings):
    array = _as_array("ratings", ratings, "a 2-D numeric array (n_users, n_items)")
    _check_numeric("ratings", array)
    if array.ndim != 2:
        raise InvalidRatingsError(
            "ratings must be a 2-D array of shape (n_users, n_items), "
            f"got {array.ndim} dimension(s) with shape {array.shape}"
        )
    _check_nonempty(array.shape)

    flat = array.ravel()  # a copy only when the array is not contiguous
    _check_values(
        flat,
        lambda k: divmod(k, array.shape[1]),
        'in a dense matrix 0 means "not rated"',
    )

    dense = np.ascontiguousarray(array, dtype=np.float64)
    rows, cols = (np.ascontiguousarray(a, dtype=np.intp) for a in np.nonzero(dense))
    return Observed(array.shape, rows, cols, dense[rows, cols], dense)


def _check_nonempty(shape):
    if shape[0] == 0 or shape[1] == 0:
        raise InvalidRatingsError(
            "ratings must have at least one user and one item, "
            f"got shape {tuple(shape)}"
        )


def _index_array(name, values):
    array = _as_array(name, values, "a 1-D array of integers")
    if array.ndim != 1:
        raise InvalidRatingsError(
            f"{name} must be 1-D, got {array.ndim} dimension(s) "
            f"with shape {array.shape}"
        )
    if array.size and array.dtype.kind not in "iu":
        raise InvalidTypeError(f"{name} must hold integers, got dtype {array.dtype}")
    return array


def _check_shape(shape):
    """``shape`` as a pair of ints >= 0 or None (a side to infer)."""
    if shape is None:
        return (None, None)
    pair = tuple(shape) if isinstance(shape, (tuple, list)) else None
    if (
        pair is None
        or len(pair) != 2
        or not all(
            n is None
            or (isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0)
            for n in pair
        )
    ):
        raise InvalidRatingsError(
            f"shape must be a pair of non-negative ints, got {shape!r}"
        )
    return tuple(None if n is None else int(n) for n in pair)


def check_triplets(rows, cols, values, shape=None):
    """Checked sparse ratings, sorted row-major: (rows, cols, values, shape).

    ``shape`` is a pair whose sides may be None, each then inferred as the
    largest index plus one. Returns new intp index arrays, float64 values and
    the complete shape; raises on unequal lengths, bad or out-of-range indices,
    values that are not finite and >= 0, and a (row, column) pair given twice.
    An empty shape is left for the caller to judge.
    """
    rows = _index_array("rows", rows)
    cols = _index_array("cols", cols)
    values = _as_array("values", values, "a 1-D numeric array")
    if values.ndim != 1:
        raise InvalidRatingsError(
            f"values must be 1-D, got {values.ndim} dimension(s) "
            f"with shape {values.shape}"
        )
    if values.size:
        _check_numeric("values", values)
    if not rows.shape[0] == cols.shape[0] == values.shape[0]:
        raise InvalidRatingsError(
            "rows, cols and values must have the same length, got "
            f"{rows.shape[0]}, {cols.shape[0]} and {values.shape[0]}"
        )

    for name, index in (("rows", rows), ("cols", cols)):
        if index.size and index.min() < 0:
            k = int(np.argmax(index < 0))
            raise InvalidRatingsError(
                f"{name} must be >= 0, got {int(index[k])} at position {k}"
            )
    shape = tuple(
        (int(index.max()) + 1 if index.size else 0) if n is None else n
        for n, index in zip(_check_shape(shape), (rows, cols))
    )
    for name, index, bound in (("rows", rows, shape[0]), ("cols", cols, shape[1])):
        if index.size and index.max() >= bound:
            k = int(np.argmax(index >= bound))
            raise InvalidRatingsError(
                f"{name} must be < {bound} for ratings of shape {shape}, "
                f"got {int(index[k])} at position {k}"
            )

    _check_values(
        values,
        lambda k: (int(rows[k]), int(cols[k])),
        "in sparse input every stored entry is a rating, 0 included",
    )

    order = np.lexsort((cols, rows))
    rows = rows[order].astype(np.intp)
    cols = cols[order].astype(np.intp)
    repeated = (rows[1:] == rows[:-1]) & (cols[1:] == cols[:-1])
    if repeated.any():
        k = int(np.argmax(repeated))
        raise InvalidRatingsError(
            "ratings must give each (row, column) pair at most once, "
            f"got ({rows[k]}, {cols[k]}) more than once"
        )
    return rows, cols, values[order].astype(np.float64), shape


def _sparse(rows, cols, values, shape):
    rows, cols, values, shape = check_triplets(rows, cols, values, shape)
    _check_nonempty(shape)
    return Observed(shape, rows, cols, values, None)


def _ratings_class():
    # kernels.datasets imports this module, so it is imported on first use.
    from .datasets import Ratings

    return Ratings


def as_observed(ratings, shape=None):
    """Check ``ratings`` against the input contract and return an Observed.

    Accepts a dense array_like (0 = not rated; a masked array's masked cells
    are not rated either), a scipy.sparse matrix or array, a
    :class:`kernels.datasets.Ratings`, or a ``(rows, cols, values)`` tuple.
    ``shape``, when known (the training shape), is the shape of a tuple and
    the shape every other input must have.
    """
    if isinstance(ratings, tuple):
        if len(ratings) != 3:
            raise InvalidRatingsError(
                "ratings given as a tuple must be (rows, cols, values), "
                f"got a tuple of length {len(ratings)}"
            )
        return _sparse(*ratings, shape=shape)

    if isinstance(ratings, Observed):
        observed = ratings
    elif hasattr(ratings, "tocoo") and hasattr(ratings, "shape"):
        coo = ratings.tocoo()
        observed = _sparse(coo.row, coo.col, coo.data, coo.shape)
    elif isinstance(ratings, _ratings_class()):
        # A Ratings was checked and sorted row-major when it was built, and its
        # read-only arrays cannot change since: no need to check it again.
        _check_nonempty(ratings.shape)
        observed = Observed(
            ratings.shape, ratings.rows, ratings.cols, ratings.values, None
        )
    elif all(hasattr(ratings, a) for a in ("rows", "cols", "values", "shape")):
        observed = _sparse(ratings.rows, ratings.cols, ratings.values, ratings.shape)
    elif isinstance(ratings, np.ma.MaskedArray):
        # filled() returns a new array when anything is masked
        observed = _dense(ratings.filled(0))
    else:
        observed = _dense(ratings)
    if shape is not None and observed.shape != tuple(shape):
        raise InvalidRatingsError(
            f"ratings must have the training shape {tuple(shape)}, got {observed.shape}"
        )
    return observed


def to_dense(observed):
    """The dense float64 matrix of ``observed``; 0 ratings cannot be dense."""
    if observed.dense is not None:
        return observed.dense
    zero = observed.values == 0
    if zero.any():
        k = int(np.argmax(zero))
        raise InvalidRatingsError(
            'the dense form cannot hold a rating of 0 (0 means "not rated" '
            f"there), got one at row {observed.rows[k]}, column {observed.cols[k]}; "
            "keep such ratings sparse (layout='sparse')"
        )
    dense = np.zeros(observed.shape, dtype=np.float64)
    dense[observed.rows, observed.cols] = observed.values
    return dense


# -- factors -------------------------------------------------------------------


def init_factors(init, seed, shape, n_factors, dtype):
    """Fresh (P, Q) of ``dtype``: drawn from ``seed`` or copied from ``init``."""
    n_users, n_items = shape
    if init is None:
        # A size NumPy cannot even describe; a merely too large one raises
        # MemoryError from the allocation below, which says how much it wanted.
        n_bytes = max(n_users, n_items) * n_factors * np.dtype(np.float64).itemsize
        if n_bytes > np.iinfo(np.intp).max:
            raise InvalidParameterError(
                f"n_factors is too large for ratings of shape {shape}: "
                f"{n_factors} factors would need {n_bytes} bytes per factor "
                "matrix; use a smaller n_factors"
            )
        rng = np.random.default_rng(seed)
        P = rng.random((n_users, n_factors))
        Q = rng.random((n_items, n_factors))
        return P.astype(dtype), Q.astype(dtype)

    if seed is not None:
        raise InvalidParameterError(
            f"give either seed or init, not both; got seed={seed!r} and an init"
        )
    if not isinstance(init, (tuple, list)) or len(init) != 2:
        raise InvalidParameterError(
            "init must be a pair (user_factors, item_factors), "
            f"got {type(init).__name__}"
        )
    factors = []
    for name, given, rows in (
        ("init[0] (user factors)", init[0], n_users),
        ("init[1] (item factors)", init[1], n_items),
    ):
        why = f"ratings are {n_users} x {n_items}, n_factors={n_factors}"
        array = check_factors(name, given, (rows, n_factors), why)

        # A finite float64 may still overflow float32; the kernel would only
        # report that as a divergence in step 1.
        with np.errstate(over="ignore"):
            cast = np.array(array, dtype=dtype, order="C", copy=True)
        bad = ~np.isfinite(cast)
        if bad.any():
            i, k = np.argwhere(bad)[0]
            raise InvalidParameterError(
                f"{name} must fit in {dtype.name} for dtype={dtype.name!r}, got "
                f"{array[i, k].item()!r} at row {i}, column {k}; scale the "
                "initial factors down or use dtype='float64'"
            )
        factors.append(cast)
    return tuple(factors)


def check_factors(name, value, shape, why):
    """``value`` as an array if it is real, finite and of ``shape``, whose sides
    are ints or, where any size will do, names such as "n_factors"."""
    array = _as_array(name, value, "a 2-D numeric array", InvalidParameterError)
    _check_numeric(name, array)
    if array.ndim != 2 or any(
        isinstance(n, int) and n != got for n, got in zip(shape, array.shape)
    ):
        shown = "(" + ", ".join(str(n) for n in shape) + ")"
        raise InvalidParameterError(
            f"{name} must have shape {shown} ({why}), got {array.shape}"
        )

    bad = ~np.isfinite(array)
    if bad.any():
        i, k = np.argwhere(bad)[0]
        raise InvalidParameterError(
            f"{name} must be finite, got {array[i, k].item()!r} at row {i}, column {k}"
        )
    return array
