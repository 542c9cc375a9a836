"""The Cython backend: the reference sweep in typed C loops.

Same kernels and return values as :mod:`kernels.python_sgd`. The ratings are
``const`` memoryviews, so read-only arrays are accepted; the factors are
written in place. ``floating`` covers float32 and float64; the loss is summed
in double. setup.py compiles this file with ``-ffp-contract=off`` so that no
multiply-add is fused and float64 results equal the reference bit for bit.
"""

from libc.math cimport NAN, isfinite

from cython cimport floating


# TODO: with 32 factors on MovieLens this runs about 30% slower than the Numba
# kernel; -march=native did not help. Possible aliasing of P and Q, which forces
# reloads after every store, is the next thing to rule out.
cdef inline void _update(
    floating[:, ::1] P, floating[:, ::1] Q, Py_ssize_t i, Py_ssize_t j,
    floating r, floating alpha, floating beta, bint simultaneous,
) noexcept nogil:
    cdef Py_ssize_t k
    cdef floating dot = 0, e, p, p_old
    cdef floating two = 2  # a bare 2 would be a double literal in the C code

    # e = r - p_i . q_j
    for k in range(P.shape[1]):
        dot += P[i, k] * Q[j, k]
    e = r - dot

    # p_ik += alpha (2 e q_jk - beta p_ik), then q_jk likewise with the new p_ik
    for k in range(P.shape[1]):
        p_old = P[i, k]
        P[i, k] += alpha * (two * e * Q[j, k] - beta * P[i, k])
        p = p_old if simultaneous else P[i, k]
        Q[j, k] += alpha * (two * e * p - beta * Q[j, k])


cdef inline double _cell_loss(
    floating[:, ::1] P, floating[:, ::1] Q, Py_ssize_t i, Py_ssize_t j,
    floating r, floating half_beta,
) noexcept nogil:
    cdef Py_ssize_t k
    cdef floating dot = 0, e
    cdef double loss = 0

    # (r - p_i . q_j)^2 + beta/2 sum_k (p_ik^2 + q_jk^2), summed in that order
    for k in range(P.shape[1]):
        dot += P[i, k] * Q[j, k]
    e = r - dot
    loss += e * e
    for k in range(P.shape[1]):
        loss += half_beta * (P[i, k] * P[i, k] + Q[j, k] * Q[j, k])
    return loss


cdef inline bint _all_finite(floating[:, ::1] A) noexcept nogil:
    cdef Py_ssize_t i, k
    for i in range(A.shape[0]):
        for k in range(A.shape[1]):
            if not isfinite(A[i, k]):
                return False
    return True


def sgd_dense(
    const floating[:, ::1] R, floating[:, ::1] P, floating[:, ::1] Q,
    Py_ssize_t steps, floating alpha, floating beta, double tol, bint simultaneous,
):
    """Run up to ``steps`` sweeps over the nonzero cells of dense ``R``."""
    cdef Py_ssize_t step, i, j
    cdef floating half_beta = beta / 2
    cdef double loss = NAN
    cdef Py_ssize_t steps_run = 0
    cdef bint finite = True

    with nogil:
        for step in range(1, steps + 1):
            steps_run = step
            for i in range(R.shape[0]):
                for j in range(R.shape[1]):
                    if R[i, j] != 0:
                        _update(P, Q, i, j, R[i, j], alpha, beta, simultaneous)

            finite = _all_finite(P) and _all_finite(Q)
            if not finite:
                break

            if tol >= 0:
                loss = 0
                for i in range(R.shape[0]):
                    for j in range(R.shape[1]):
                        if R[i, j] != 0:
                            loss += _cell_loss(P, Q, i, j, R[i, j], half_beta)
                if loss < tol:
                    break
    return steps_run, loss, finite


def sgd_sparse(
    const Py_ssize_t[::1] rows, const Py_ssize_t[::1] cols,
    const floating[::1] values, floating[:, ::1] P, floating[:, ::1] Q,
    Py_ssize_t steps, floating alpha, floating beta, double tol, bint simultaneous,
):
    """Run up to ``steps`` sweeps over row-major triplets."""
    cdef Py_ssize_t step, n
    cdef floating half_beta = beta / 2
    cdef double loss = NAN
    cdef Py_ssize_t steps_run = 0
    cdef bint finite = True

    with nogil:
        for step in range(1, steps + 1):
            steps_run = step
            for n in range(values.shape[0]):
                _update(P, Q, rows[n], cols[n], values[n], alpha, beta, simultaneous)

            finite = _all_finite(P) and _all_finite(Q)
            if not finite:
                break

            if tol >= 0:
                loss = 0
                for n in range(values.shape[0]):
                    loss += _cell_loss(P, Q, rows[n], cols[n], values[n], half_beta)
                if loss < tol:
                    break
    return steps_run, loss, finite
