#!/usr/bin/env python3
"""Small statistics and verdict helpers shared by bench/report*.py."""
import math


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    if n == 0:
        return float("nan")
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def median_ci(xs):
    """A distribution-free confidence interval for the median of `xs` (order
    statistics, binomial with p = 1/2): the narrowest symmetric pair of order
    statistics whose coverage is at least 95%, or the full range when the
    sample is too small for 95%. Returns (low, high, coverage)."""
    xs = sorted(xs)
    n = len(xs)
    if n == 0:
        return float("nan"), float("nan"), 0.0
    # P(X <= j) for X ~ Binomial(n, 1/2).
    cdf, acc = [], 0
    for j in range(n + 1):
        acc += math.comb(n, j)
        cdf.append(acc / 2 ** n)
    k = 1
    while k + 1 <= n // 2 and 1 - 2 * cdf[k] >= 0.95:
        k += 1
    return xs[k - 1], xs[n - k], 1 - 2 * cdf[k - 1]


def ratios(a_runs, b_runs, key):
    """a's value over b's, run by run (they ran back to back in each round)."""
    return [a[key] / b[key] for a, b in zip(a_runs, b_runs) if a.get(key) is not None and b.get(key)]


class Ratio:
    """Paired per-round (or per-run) ratios: their median and interval
    (`interval`: "ci", the order-statistics interval of [`median_ci`], or
    "range", min-max)."""

    def __init__(self, xs, interval="ci"):
        self.xs = list(xs)
        self.median = median(self.xs)
        if interval == "ci":
            self.lo, self.hi, self.coverage = median_ci(self.xs)
        else:
            self.lo, self.hi, self.coverage = (min(self.xs), max(self.xs), None) if self.xs else (
                float("nan"), float("nan"), None)

    def fmt(self, bold=True):
        m = f"**{self.median:.2f}x**" if bold else f"{self.median:.2f}x"
        return f"{m} [{self.lo:.2f}–{self.hi:.2f}]"


def verdict(lo, hi, target, better):
    """"met" when the whole interval is on the good side of the target,
    "not met" when it is wholly on the other, "straddles" otherwise.
    `better`: "le" (lower is better, e.g. CPU, p99, time) or "ge"."""
    if any(math.isnan(x) for x in (lo, hi)):
        return "no data"
    if better == "le":
        return "met" if hi <= target else "not met" if lo > target else "straddles"
    return "met" if lo >= target else "not met" if hi < target else "straddles"


def mark(v, median_ok=None):
    """A verdict for a table cell; for "straddles", which side the median is on."""
    if v == "met":
        return "✅ met"
    if v == "not met":
        return "❌ not met"
    if v == "straddles":
        side = "" if median_ok is None else (" (median meets it)" if median_ok else " (median misses it)")
        return f"⚠️ straddles{side}"
    return v


def ratio_verdict(r, target, better):
    """[`mark`] of a [`Ratio`] against a target."""
    v = verdict(r.lo, r.hi, target, better)
    ok = r.median <= target if better == "le" else r.median >= target
    return v, mark(v, ok)


def fmt_ns(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def fmt_ms(us):
    return "—" if us is None else f"{us / 1000:.2f} ms"


def fmt_mb(kb):
    return "—" if not kb else f"{kb / 1024:.1f} MB"


def rounds(n):
    return f"{n} round" + ("" if n == 1 else "s")
