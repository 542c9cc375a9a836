"""The reference backend: the SGD sweep in plain Python loops.

This is the definition every other backend is measured against, written to be
read rather than to be fast. Each kernel works in place on ``P`` (user factors,
n_users x n_factors) and ``Q`` (item factors, n_items x n_factors) and returns
``(steps_run, loss, finite)``:

- one step is one sweep over the observed cells in row-major order; for a cell
  with rating ``r`` the error ``e = r - P[i] . Q[j]`` is computed once, then for
  each factor ``k`` in order ``P[i, k] += alpha * (2 e Q[j, k] - beta P[i, k])``
  and ``Q[j, k] += alpha * (2 e P[i, k] - beta Q[j, k])``, the second update
  reading the ``P[i, k]`` just written (``simultaneous=True`` reads the value
  from before the step instead);
- after each sweep the kernel stops with ``finite=False`` if a factor is no
  longer finite; otherwise, when ``tol >= 0``, it computes the loss
  ``sum (r - P[i] . Q[j])^2 + beta/2 sum_k (P[i, k]^2 + Q[j, k]^2)`` over the
  observed cells and stops once it is below ``tol``. A negative ``tol`` skips
  the loss sweep and returns ``loss = nan``.

Arithmetic happens in the dtype of the arrays (numpy scalars), with the loss
summed in float64.
"""

import math


def _dense_cells(R):
    """The observed cells of a dense matrix, row-major: (i, j, r) with r != 0."""
    n_users, n_items = R.shape
    for i in range(n_users):
        for j in range(n_items):
            if R[i, j] != 0:
                yield i, j, R[i, j]


def _sparse_cells(rows, cols, values):
    """The cells of triplets already sorted row-major."""
    for n in range(values.shape[0]):
        yield rows[n], cols[n], values[n]


def _update(P, Q, i, j, r, alpha, beta, simultaneous):
    """One SGD update of user i and item j towards rating r."""
    # e = r - p_i . q_j
    dot = 0.0
    for k in range(P.shape[1]):
        dot += P[i, k] * Q[j, k]
    e = r - dot

    # p_ik += alpha (2 e q_jk - beta p_ik), then q_jk likewise with the new p_ik
    for k in range(P.shape[1]):
        p_old = P[i, k]
        P[i, k] += alpha * (2 * e * Q[j, k] - beta * P[i, k])
        p = p_old if simultaneous else P[i, k]
        Q[j, k] += alpha * (2 * e * p - beta * Q[j, k])


def _loss(cells, P, Q, beta):
    """sum e^2 + beta/2 sum_k (p_ik^2 + q_jk^2) over the observed cells."""
    half_beta = beta / 2
    loss = 0.0
    for i, j, r in cells:
        # each cell's terms are summed first, then added to the total
        dot = 0.0
        for k in range(P.shape[1]):
            dot += P[i, k] * Q[j, k]
        e = r - dot
        cell = float(e * e)
        for k in range(P.shape[1]):
            cell += float(half_beta * (P[i, k] * P[i, k] + Q[j, k] * Q[j, k]))
        loss += cell
    return loss


def _all_finite(A):
    return all(math.isfinite(x) for x in A.flat)


def _run(cells, P, Q, steps, alpha, beta, tol, simultaneous):
    loss = math.nan
    for step in range(1, steps + 1):
        for i, j, r in cells():
            _update(P, Q, i, j, r, alpha, beta, simultaneous)

        if not (_all_finite(P) and _all_finite(Q)):
            return step, loss, False

        if tol >= 0:
            loss = _loss(cells(), P, Q, beta)
            if loss < tol:
                return step, loss, True
    return steps, loss, True


def sgd_dense(R, P, Q, steps, alpha, beta, tol, simultaneous):
    """Run up to ``steps`` sweeps over the nonzero cells of dense ``R``."""
    return _run(lambda: _dense_cells(R), P, Q, steps, alpha, beta, tol, simultaneous)


def sgd_sparse(rows, cols, values, P, Q, steps, alpha, beta, tol, simultaneous):
    """Run up to ``steps`` sweeps over row-major triplets."""

    def cells():
        return _sparse_cells(rows, cols, values)

    return _run(cells, P, Q, steps, alpha, beta, tol, simultaneous)
