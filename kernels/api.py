"""The public entry point: :func:`factorize` and its result.

The wrapper checks every argument, brings the ratings to one of two layouts
(a dense matrix or row-major triplets), draws or copies the initial factors and
hands contiguous arrays of the working dtype to the chosen backend's kernel.
Kernels never see the caller's factor arrays; they write only into the fresh
copies made here.
"""

import logging
from dataclasses import dataclass

import numpy as np

from . import _backends
from . import _validation as v
from ._errors import DivergenceError, InvalidParameterError, InvalidRatingsError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Factorization:
    """The result of :func:`factorize`.

    Attributes
    ----------
    user_factors : ndarray of shape (n_users, n_factors)
        P, one row per user.
    item_factors : ndarray of shape (n_items, n_factors)
        Q, one row per item. (The classic tutorial stores the transpose,
        n_factors x n_items.) A prediction is ``user_factors[i] @ item_factors[j]``.
    steps_run : int
        Sweeps done; below ``steps`` when the loss fell under ``tol``.
    loss : float or None
        The loss after the last sweep; None when ``tol`` was None.
    backend, layout : str
        Which kernel produced the factors.
    """

    user_factors: np.ndarray
    item_factors: np.ndarray
    steps_run: int
    loss: float | None
    backend: str
    layout: str

    def predict(self):
        """The full predicted matrix, ndarray of shape (n_users, n_items)."""
        return self.user_factors @ self.item_factors.T

    def rmse(self, ratings):
        """Root mean squared error over the observed cells of ``ratings``.

        Parameters
        ----------
        ratings : array_like of shape (n_users, n_items), sparse matrix, Ratings \
or (rows, cols, values)
            Any ratings of the training shape, for instance held-out ones; a
            tuple's shape is the training shape, whatever its largest indices.

        Returns
        -------
        float
        """
        observed = self._observed(ratings)
        if observed.n_ratings == 0:
            raise InvalidRatingsError("rmse needs at least one rating, got none")
        e = observed.values - _predict_cells(
            observed, self.user_factors, self.item_factors
        )
        return float(np.sqrt(np.mean(e * e)))

    def _observed(self, ratings):
        shape = (self.user_factors.shape[0], self.item_factors.shape[0])
        return v.as_observed(ratings, shape)


def _predict_cells(observed, P, Q):
    P = np.asarray(P, dtype=np.float64)
    Q = np.asarray(Q, dtype=np.float64)
    return np.einsum("nk,nk->n", P[observed.rows], Q[observed.cols])


def masked_loss(ratings, user_factors, item_factors, *, beta=0.02):
    """The objective that SGD lowers, over the observed cells only.

    ``sum (r_ij - p_i . q_j)^2 + beta/2 * sum_k (p_ik^2 + q_jk^2)``, both sums
    over the observed (i, j), computed in float64.

    Parameters
    ----------
    ratings : array_like of shape (n_users, n_items), sparse matrix, Ratings or \
(rows, cols, values)
        A tuple's shape is (n_users, n_items) from the factors.
    user_factors : array_like of shape (n_users, n_factors)
        Finite real numbers.
    item_factors : array_like of shape (n_items, n_factors)
        Finite real numbers.
    beta : float, default=0.02

    Returns
    -------
    float
    """
    beta = v.check_real("beta", beta)
    P = v.check_factors(
        "user_factors", user_factors, ("n_users", "n_factors"), "one row per user"
    )
    n_factors = P.shape[1]
    Q = v.check_factors(
        "item_factors",
        item_factors,
        ("n_items", n_factors),
        "one row per item, as many columns as user_factors",
    )
    shape = (P.shape[0], Q.shape[0])

    # Factors fix the shape of a tuple; other ratings carry their own, and
    # then it is the factors that do not fit.
    observed = v.as_observed(ratings, shape if isinstance(ratings, tuple) else None)
    if observed.shape != shape:
        n_users, n_items = observed.shape
        raise InvalidParameterError(
            f"user_factors and item_factors must have shapes {(n_users, n_factors)} "
            f"and {(n_items, n_factors)} for ratings of shape {observed.shape}, "
            f"got {P.shape} and {Q.shape}"
        )
    P = P.astype(np.float64, copy=False)
    Q = Q.astype(np.float64, copy=False)

    e = observed.values - _predict_cells(observed, P, Q)
    Pu, Qi = P[observed.rows], Q[observed.cols]
    return float(e @ e + beta / 2 * (np.sum(Pu * Pu) + np.sum(Qi * Qi)))


def factorize(
    ratings,
    n_factors=8,
    *,
    steps=5000,
    alpha=0.0002,
    beta=0.02,
    tol=0.001,
    backend="numba",
    dtype="float64",
    seed=None,
    init=None,
    layout=None,
    update="tutorial",
):
    """Factorize a ratings matrix R into user and item factors by SGD.

    Finds P (n_users x n_factors) and Q (n_items x n_factors) such that
    ``P @ Q.T`` matches R on the observed cells, lowering

        L = sum_(i,j observed) (r_ij - p_i . q_j)^2
            + beta/2 * sum_(i,j observed) sum_k (p_ik^2 + q_jk^2).

    One step is one sweep over the observed cells in row-major order. For each
    cell, ``e = r_ij - p_i . q_j`` is computed once; then for each k,
    ``p_ik += alpha (2 e q_jk - beta p_ik)`` and
    ``q_jk += alpha (2 e p_ik - beta q_jk)``, the latter reading the p_ik just
    written (``update="tutorial"``) or the one from before the cell's update
    (``update="simultaneous"``).

    Parameters
    ----------
    ratings : array_like of shape (n_users, n_items), sparse matrix, Ratings or \
(rows, cols, values)
        Dense input: 0 means "not rated", every other value is a rating and
        must be finite and > 0. Sparse input (any scipy.sparse matrix or array,
        a :class:`kernels.datasets.Ratings` or a tuple of three 1-D arrays):
        every stored entry is a rating, 0 included; a tuple's shape is
        (max row + 1, max col + 1). A ``numpy.ma`` masked array is dense input
        whose masked cells are "not rated" too, whatever value they hide. The
        caller's arrays are never modified.
    n_factors : int, default=8
        Latent factors per user and item.
    steps : int, default=5000
        Maximum number of sweeps, below the int64 maximum (2**63 - 1); 0
        returns the initial factors.
    alpha : float, default=0.0002
        Learning rate, > 0.
    beta : float, default=0.02
        Regularization, >= 0.
    tol : float or None, default=0.001
        Stop once the loss after a sweep is below tol. None skips computing
        the loss, which costs as much as a sweep.
    backend : str, default="numba"
        One of :data:`kernels.BACKENDS`.
    dtype : {"float64", "float32"}, default="float64"
        Working precision of the factors and the arithmetic.
    seed : int >= 0, numpy Generator, BitGenerator, SeedSequence or None
        Seeds ``numpy.random.default_rng``; P then Q are drawn uniform on
        [0, 1) in float64 and cast to dtype. A Generator or BitGenerator is
        drawn from, so its state advances as with any NumPy consumer. Not
        allowed together with init.
    init : (array_like, array_like), optional
        Initial (P, Q) of shapes (n_users, n_factors), (n_items, n_factors);
        copied, never modified.
    layout : {"dense", "sparse"} or None
        The kernel to use. None follows the input: dense input runs the dense
        kernel, sparse input the sparse one. In float64 both give bitwise
        equal factors.
    update : {"tutorial", "simultaneous"}, default="tutorial"
        Whether the q update reads the new or the old p (see above).

    Returns
    -------
    Factorization

    Raises
    ------
    InvalidRatingsError, InvalidParameterError, InvalidTypeError
        On bad input (subclasses of ValueError or TypeError), before any work.
    BackendUnavailableError
        When ``backend`` is unknown or not usable in this install.
    DivergenceError
        When a factor stops being finite; use a smaller alpha.
    """
    n_factors = v.check_int("n_factors", n_factors, 1)
    steps = v.check_int("steps", steps, 0, v.MAX_STEPS)
    alpha = v.check_real("alpha", alpha, positive=True)
    beta = v.check_real("beta", beta)
    tol = v.check_real("tol", tol, allow_none=True)
    dtype = v.check_dtype(dtype)
    alpha_cast = v.check_fits_dtype("alpha", alpha, dtype, positive=True)
    beta_cast = v.check_fits_dtype("beta", beta, dtype)
    seed = v.check_seed(seed)
    update = v.check_choice("update", update, v.UPDATES)
    if layout is not None:
        layout = v.check_choice("layout", layout, v.LAYOUTS)
    kernel_module = _backends.load(backend)

    observed = v.as_observed(ratings)
    if observed.n_ratings == 0:
        # Nothing to fit: the random initial factors would come back looking
        # converged (one step, loss 0).
        raise InvalidRatingsError(
            "ratings must hold at least one rating, got none in a matrix of shape "
            f'{observed.shape}; in a dense matrix 0 means "not rated"'
        )
    if layout is None:
        layout = "dense" if observed.dense is not None else "sparse"
    P, Q = v.init_factors(init, seed, observed.shape, n_factors, dtype)
    args = _kernel_args(observed, layout, dtype)
    logger.debug(
        "factorize %s ratings of shape %s with backend=%s layout=%s dtype=%s",
        observed.n_ratings,
        observed.shape,
        backend,
        layout,
        dtype,
    )

    scalars = (alpha_cast, beta_cast, -1.0 if tol is None else tol)
    kernel = getattr(kernel_module, f"sgd_{layout}")
    # Overflow is detected after each sweep and reported below as a
    # DivergenceError; NumPy's own warnings about it would only repeat that.
    with np.errstate(over="ignore", invalid="ignore"):
        steps_run, loss, finite = kernel(
            *args, P, Q, steps, *scalars, update == "simultaneous"
        )
    if not finite:
        raise DivergenceError(
            f"the factors became non-finite in step {steps_run} (alpha={alpha!r}, "
            f"backend {backend!r}); SGD diverged, use a smaller alpha"
        )

    if tol is None:
        loss = None
    elif steps_run == 0:
        loss = masked_loss(observed, P, Q, beta=beta)
    else:
        loss = float(loss)
    return Factorization(P, Q, int(steps_run), loss, backend, layout)


def _kernel_args(observed, layout, dtype):
    """The ratings arguments of the kernel for ``layout``, in ``dtype``."""
    values = observed.values
    if dtype != np.float64:
        _check_ratings_fit(observed, dtype)
    if layout == "dense":
        return (np.ascontiguousarray(v.to_dense(observed), dtype=dtype),)
    return observed.rows, observed.cols, values.astype(dtype)


def _check_ratings_fit(observed, dtype):
    """Raise if a float64 rating overflows or turns to 0 in ``dtype``."""
    values = observed.values
    with np.errstate(over="ignore", under="ignore"):
        cast = values.astype(dtype)

    def cell(k):
        return (
            f"{values[k].item()!r} at row {observed.rows[k]}, column {observed.cols[k]}"
        )

    overflow = np.isinf(cast)
    if overflow.any():
        raise InvalidRatingsError(
            f"ratings must fit in {dtype.name} for dtype={dtype.name!r}, got "
            f"{cell(int(np.argmax(overflow)))}"
        )
    # A rating that rounds to 0 would be skipped as "not rated" by the dense
    # kernel and trained on as a 0 by the sparse one: lost either way.
    underflow = (cast == 0) & (values != 0)
    if underflow.any():
        raise InvalidRatingsError(
            f"nonzero ratings must stay nonzero in {dtype.name} for "
            f"dtype={dtype.name!r}, got {cell(int(np.argmax(underflow)))}, which "
            "rounds to 0; rescale the ratings or use dtype='float64'"
        )
