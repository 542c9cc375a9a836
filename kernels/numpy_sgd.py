"""The NumPy backend: the reference sweep, vectorised over the factors.

The natural first attempt at speeding up the Python loops: still one Python
iteration per observed cell, but the dot product and the factor updates of a
cell are single NumPy operations. The update is the reference's, element for
element; only ``e = r - p_i . q_j`` differs, since ``numpy.dot`` may sum the
products in another order, so results agree with the reference to a few ulps
rather than bitwise. The loss is computed over all observed cells at once.
Kernels and return values are as in :mod:`kernels.python_sgd`.
"""

import math

import numpy as np


def _update(P, Q, i, j, r, alpha, beta, simultaneous):
    """One SGD update of user i and item j towards rating r."""
    p = P[i]  # views: the updates below write into P and Q
    q = Q[j]

    # e = r - p_i . q_j
    e = r - np.dot(p, q)

    # p_i += alpha (2 e q_j - beta p_i); q_j likewise with the new (or old) p_i
    p_old = p.copy() if simultaneous else p
    p += alpha * (2 * e * q - beta * p)
    q += alpha * (2 * e * p_old - beta * q)


def _loss(rows, cols, values, P, Q, beta):
    """sum e^2 + beta/2 sum_k (p_ik^2 + q_jk^2) over the observed cells."""
    Pu = P[rows]
    Qi = Q[cols]
    e = values - np.einsum("nk,nk->n", Pu, Qi)
    penalty = (beta / 2) * (
        np.einsum("nk,nk->n", Pu, Pu) + np.einsum("nk,nk->n", Qi, Qi)
    )
    return float(np.sum(e.astype(np.float64) ** 2) + np.sum(penalty, dtype=np.float64))


def sgd_sparse(rows, cols, values, P, Q, steps, alpha, beta, tol, simultaneous):
    """Run up to ``steps`` sweeps over row-major triplets."""
    loss = math.nan
    cells = list(zip(rows.tolist(), cols.tolist(), values))
    for step in range(1, steps + 1):
        for i, j, r in cells:
            _update(P, Q, i, j, r, alpha, beta, simultaneous)

        if not (np.isfinite(P).all() and np.isfinite(Q).all()):
            return step, loss, False

        if tol >= 0:
            loss = _loss(rows, cols, values, P, Q, beta)
            if loss < tol:
                return step, loss, True
    return steps, loss, True


def sgd_dense(R, P, Q, steps, alpha, beta, tol, simultaneous):
    """Run up to ``steps`` sweeps over the nonzero cells of dense ``R``."""
    rows, cols = np.nonzero(R)  # row-major, as the sweep requires
    values = R[rows, cols]
    return sgd_sparse(rows, cols, values, P, Q, steps, alpha, beta, tol, simultaneous)
