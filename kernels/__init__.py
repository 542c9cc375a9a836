"""Matrix factorization by stochastic gradient descent, in several backends.

``factorize(R)`` splits a ratings matrix R (n_users x n_items, 0 = not rated)
into user factors P and item factors Q with ``P @ Q.T`` close to R on the rated
cells. The same algorithm runs in plain Python (the reference), NumPy, Numba and
Cython; :data:`BACKENDS` lists the ones this install can run.
"""

from . import datasets
from ._backends import AVAILABLE as BACKENDS
from ._errors import (
    BackendUnavailableError,
    DataNotFoundError,
    DivergenceError,
    InvalidParameterError,
    InvalidRatingsError,
    InvalidTypeError,
    KernelsError,
    KernelsWarning,
)
from .api import Factorization, factorize, masked_loss

__all__ = [
    "BACKENDS",
    "BackendUnavailableError",
    "DataNotFoundError",
    "DivergenceError",
    "Factorization",
    "InvalidParameterError",
    "InvalidRatingsError",
    "InvalidTypeError",
    "KernelsError",
    "KernelsWarning",
    "datasets",
    "factorize",
    "masked_loss",
]
