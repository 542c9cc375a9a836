"""The Numba backend: the reference sweep compiled with ``numba.njit``.

The kernels are the reference loops of :mod:`kernels.python_sgd`, compiled
without ``fastmath``, so that in float64 they reproduce the reference bit for
bit. They are written out again here rather than compiled from that module:
Numba's disk cache notices edits to this file only, so an imported helper could
change without the cached machine code following it. The per-cell helpers are
inlined into the kernels at the Numba IR level, which keeps each kernel a
single compilation unit: compiling a fresh dispatcher of ``sgd_dense.py_func``
costs what compiling the backend costs. Compiled machine code is cached on disk
(``cache=True``) so that later processes skip compilation. Kernels and return
values are as in :mod:`kernels.python_sgd`.
"""

import math

import numpy as np
from numba import njit


@njit(inline="always")
def _update(P, Q, i, j, r, alpha, beta, simultaneous):
    # Constants in the factors' dtype: a bare 2 or 0.0 would promote float32
    # arithmetic to float64, which the reference does not do.
    two = P.dtype.type(2)

    # e = r - p_i . q_j
    dot = P.dtype.type(0)
    for k in range(P.shape[1]):
        dot += P[i, k] * Q[j, k]
    e = r - dot

    # p_ik += alpha (2 e q_jk - beta p_ik), then q_jk likewise with the new p_ik
    for k in range(P.shape[1]):
        p_old = P[i, k]
        P[i, k] += alpha * (two * e * Q[j, k] - beta * P[i, k])
        p = p_old if simultaneous else P[i, k]
        Q[j, k] += alpha * (two * e * p - beta * Q[j, k])


@njit(inline="always")
def _cell_loss(P, Q, i, j, r, half_beta):
    # (r - p_i . q_j)^2 + beta/2 sum_k (p_ik^2 + q_jk^2), summed in float64
    dot = P.dtype.type(0)
    for k in range(P.shape[1]):
        dot += P[i, k] * Q[j, k]
    e = r - dot
    loss = 0.0
    loss += e * e
    for k in range(P.shape[1]):
        loss += half_beta * (P[i, k] * P[i, k] + Q[j, k] * Q[j, k])
    return loss


@njit(inline="always")
def _all_finite(A):
    for x in A.flat:
        if not np.isfinite(x):
            return False
    return True


@njit(cache=True)
def sgd_dense(R, P, Q, steps, alpha, beta, tol, simultaneous):
    """Run up to ``steps`` sweeps over the nonzero cells of dense ``R``."""
    n_users, n_items = R.shape
    half_beta = beta / P.dtype.type(2)
    loss = math.nan
    for step in range(1, steps + 1):
        for i in range(n_users):
            for j in range(n_items):
                if R[i, j] != 0:
                    _update(P, Q, i, j, R[i, j], alpha, beta, simultaneous)

        if not (_all_finite(P) and _all_finite(Q)):
            return step, loss, False

        if tol >= 0:
            loss = 0.0
            for i in range(n_users):
                for j in range(n_items):
                    if R[i, j] != 0:
                        loss += _cell_loss(P, Q, i, j, R[i, j], half_beta)
            if loss < tol:
                return step, loss, True
    return steps, loss, True


@njit(cache=True)
def sgd_sparse(rows, cols, values, P, Q, steps, alpha, beta, tol, simultaneous):
    """Run up to ``steps`` sweeps over row-major triplets."""
    half_beta = beta / P.dtype.type(2)
    loss = math.nan
    for step in range(1, steps + 1):
        for n in range(values.shape[0]):
            _update(P, Q, rows[n], cols[n], values[n], alpha, beta, simultaneous)

        if not (_all_finite(P) and _all_finite(Q)):
            return step, loss, False

        if tol >= 0:
            loss = 0.0
            for n in range(values.shape[0]):
                loss += _cell_loss(P, Q, rows[n], cols[n], values[n], half_beta)
            if loss < tol:
                return step, loss, True
    return steps, loss, True
