"""The project's exception and warning classes.

Every error raised on bad input derives from :class:`KernelsError` and from the
built-in exception that fits, so callers may catch either.
"""


class KernelsError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidRatingsError(KernelsError, ValueError):
    """The ratings break the input contract (bad value, shape or index)."""


class InvalidParameterError(KernelsError, ValueError):
    """A parameter of :func:`kernels.factorize` is out of its allowed range."""


class InvalidTypeError(KernelsError, TypeError):
    """An argument has a type or dtype the kernels cannot use."""


class BackendUnavailableError(KernelsError, ValueError):
    """The requested backend is unknown, not installed or not built."""


class DivergenceError(KernelsError, FloatingPointError):
    """The factors became non-finite during training; alpha is too large."""


class DataNotFoundError(KernelsError, FileNotFoundError):
    """A data set could not be found in any of the places it is looked for."""


class KernelsWarning(UserWarning):
    """Base class of the warnings this package emits."""
