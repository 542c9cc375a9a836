"""Benchmark set-up: the per-run registry of results and the summary table.

Each benchmark calls the ``record`` fixture once its timing is done. ``record``
writes the figures a reader needs into ``benchmark.extra_info`` (saved with the
JSON of the run) and files them in a session registry, from which
``pytest_terminal_summary`` prints one row per (case, backend, layout), numba's
compile, first-call and steady-state figures merged into one row.

Useful options (all pytest-benchmark's own)::

    pytest benchmarks --benchmark-autosave
    pytest benchmarks --benchmark-compare --benchmark-compare-fail=median:25%
    pytest benchmarks --benchmark-disable      # each benchmark once, as a test

Rows are grouped by case (``--benchmark-group-by=group``, the plugin's default).
When ``--benchmark-columns`` is not given, the plugin's table shows the columns
in ``DEFAULT_COLUMNS`` below: the median is what the regression check compares.
"""

import math

import pytest

import kernels

DEFAULT_COLUMNS = ["median", "iqr", "min", "max", "rounds", "iterations"]

FIGURES = ("compile", "first_call", "steady")

_RESULTS = pytest.StashKey[dict]()


def pytest_configure(config):
    # Runs before pytest-benchmark reads its options (it configures last), as
    # long as this conftest is loaded at start-up, i.e. `pytest benchmarks`.
    # The option's default is None, so an explicit choice is never overridden.
    if getattr(config.option, "benchmark_columns", False) is None:
        config.option.benchmark_columns = list(DEFAULT_COLUMNS)


def _median(benchmark):
    """Median seconds per call, or None when nothing was timed."""
    stats = getattr(benchmark, "stats", None)
    if not stats:
        # --benchmark-disable runs the call once and keeps no statistics.
        return None
    return float(stats.stats.median)


@pytest.fixture
def record(request, benchmark):
    """Return ``record(...)``: store a finished benchmark's figures.

    Call it after ``benchmark(...)`` or ``benchmark.pedantic(...)`` returned,
    with ``figure`` one of ``FIGURES``, the case's sizes and the sweeps one call
    ran (``steps``; 0 for a compile). ``rmse`` is the training RMSE the call
    reached (None for a compile, which produces no factors); ``compile_s`` is
    the compile time where one applies. Updates per second are
    ``n_ratings * steps / median``, from the measured median.
    """

    def record_(
        *,
        figure,
        case,
        backend,
        layout,
        n_users,
        n_items,
        n_ratings,
        n_factors,
        steps,
        rmse=None,
        compile_s=None,
    ):
        if figure not in FIGURES:
            raise ValueError(f"figure must be one of {FIGURES}, got {figure!r}")
        median = _median(benchmark)
        if figure == "compile" and median is not None:
            compile_s = median

        info = {
            "case": str(case),
            "figure": figure,
            "backend": str(backend),
            "layout": str(layout),
            "n_users": int(n_users),
            "n_items": int(n_items),
            "n_ratings": int(n_ratings),
            "n_factors": int(n_factors),
            "steps": int(steps),
        }
        # Only a steady-state call is a rate: a compile runs no sweep, and a
        # first call's time is mostly compilation.
        if median is not None and figure == "steady":
            info["updates_per_s"] = float(n_ratings * steps / median)
        if rmse is not None:
            info["rmse"] = float(rmse)
        if compile_s is not None:
            info["compile_s"] = float(compile_s)
        benchmark.extra_info.update(info)

        if median is None:
            return
        registry = request.config.stash.setdefault(_RESULTS, {})
        row = registry.setdefault((case, backend, layout), {})
        row[figure] = {"median": median, **info}

    return record_


# -- summary table -------------------------------------------------------------


def _format_seconds(seconds):
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _format_rate(rate):
    if rate is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if rate >= scale:
            return f"{rate / scale:.3g} {unit}"
    return f"{rate:.3g}"


def _format_ratio(ratio):
    if ratio is None:
        return "-"
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.3g}x"


def _summary_rows(registry):
    """One row of cells per (case, backend, layout), cases in run order."""
    cases = list(dict.fromkeys(case for case, _, _ in registry))
    backend_order = {name: k for k, name in enumerate(kernels.BACKENDS)}

    def order(key):
        case, backend, layout = key
        return cases.index(case), backend_order.get(backend, len(backend_order)), layout

    python_rate = {}
    for (case, backend, _), figures in registry.items():
        steady = figures.get("steady")
        if backend == "python" and steady and steady.get("updates_per_s"):
            python_rate[case] = steady["updates_per_s"]

    rows = []
    for key in sorted(registry, key=order):
        case, backend, layout = key
        figures = registry[key]
        steady = figures.get("steady", {})
        rate = steady.get("updates_per_s")
        ratio = None
        if rate is not None and case in python_rate:
            ratio = rate / python_rate[case]
        rmse = steady.get("rmse", figures.get("first_call", {}).get("rmse"))
        rows.append(
            [
                case,
                backend,
                layout,
                _format_seconds(figures.get("first_call", {}).get("median")),
                _format_seconds(figures.get("compile", {}).get("median")),
                _format_seconds(steady.get("median")),
                str(steady.get("steps", "-")),
                _format_rate(rate),
                _format_ratio(ratio),
                "-" if rmse is None or math.isnan(rmse) else f"{rmse:.4f}",
            ]
        )
    return rows


# A wrapper, so the table comes after pytest-benchmark's own tables and still
# prints when its --benchmark-compare-fail check raises PerformanceRegression.
@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    try:
        return (yield)
    finally:
        _write_summary(terminalreporter, config)


def _write_summary(terminalreporter, config):
    registry = config.stash.get(_RESULTS, None)
    if not registry:
        return

    header = [
        "case",
        "backend",
        "layout",
        "first call",
        "compile",
        "steady state",
        "sweeps",
        "updates/s",
        "vs python",
        "RMSE",
    ]
    rows = _summary_rows(registry)
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    # Names read left-aligned, figures right-aligned.
    n_text = 3

    def line(cells):
        parts = [
            cell.ljust(w) if c < n_text else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(parts).rstrip()

    tr = terminalreporter
    tr.write_sep("=", "SGD matrix factorization: speed by case and backend")
    tr.write_line(line(header))
    tr.write_line("  ".join("-" * w for w in widths))
    for row in rows:
        tr.write_line(line(row))
    tr.write_line("")
    tr.write_line(
        "steady state, first call, compile: median seconds per call; first call "
        "= compile + one run in a fresh numba dispatcher, without the disk cache, "
        "in a process where numba is already loaded (a new process pays more)."
    )
    tr.write_line(
        "updates/s = n_ratings x sweeps / steady-state median; vs python: ratio "
        "of updates/s within a case."
    )
    tr.write_line(
        "The slow backends run fewer sweeps per call, so their RMSE is that of a "
        "shorter fit, not a sign of lower accuracy. The classic case computes the "
        "loss after each sweep (tol=0.001), the MovieLens cases do not (tol=None)."
    )
