"""A histogram of bounded memory with quantiles of known relative error.

`Histogram` is a log-bucketed sketch in the manner of DDSketch (Masson, Rim
and Lee, VLDB 2019). A positive value ``v`` is counted in bucket
``ceil(log(v) / log(gamma))`` with ``gamma = (1 + a) / (1 - a)``; the bucket
is answered by the one value that is within relative error ``a`` of every
value it can hold. So every quantile this histogram answers is within
``relative_accuracy`` (default 1%) of the true value of that rank, as long
as no buckets have been collapsed. Negative values are counted the same way
in a mirrored store; zero (and values too small to bucket) in a counter of
their own.

Memory is bounded by ``max_buckets`` per sign, however many values arrive:
with the default 2,048 buckets and 1% accuracy, values spanning 17 orders of
magnitude fit before the lowest buckets are collapsed into one (which only
makes the lowest quantiles coarser). Count, sum, min and max are exact.

``_lock`` guards every field; each method takes it once.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from itertools import accumulate, repeat
from operator import truediv
from typing import Any, Iterator

from .errors import HistogramError

DEFAULT_RELATIVE_ACCURACY = 0.01
DEFAULT_MAX_BUCKETS = 2048
# Values smaller than this are counted as zero: their logarithms would make
# bucket indexes of no use to anybody measuring durations or sizes.
MIN_INDEXABLE = 1e-12


_FLOATS = {float}


def _finite(value: float) -> float:
    """``value`` as a float, or `HistogramError` if it is not a finite number."""
    if value.__class__ is not float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise HistogramError(f"histogram values must be numbers, got {value!r}")
        value = float(value)
    if not math.isfinite(value):
        raise HistogramError(f"histogram values must be finite, got {value!r}")
    return value


def _values(buckets: list[tuple[float, int]], low: float, high: float, count: int) -> Iterator[float]:
    yield low
    left = count - 2  # between the exact smallest and largest
    skip = 1  # the smallest stands for one value of the first bucket
    for value, n in buckets:
        take = min(n - skip, left)
        skip = 0
        if take > 0:
            yield from repeat(min(max(value, low), high), take)
            left -= take
    if count > 1:
        yield high


class Histogram:
    """Count, sum, min, max and quantiles of a stream of numbers.

    ``len(h)`` is the number of values recorded and iterating gives the
    values, so the basic API's uses of a list (``len(metrics["histograms"][name])``,
    ``for v in ...``, ``sum(...)``, ``sorted(...)``, ``max(...)``) keep
    working, within ``relative_accuracy`` (see `__iter__`).
    """

    __slots__ = (
        "relative_accuracy", "max_buckets", "_gamma", "_log_gamma", "_positive",
        "_negative", "_zero", "_count", "_sum", "_min", "_max", "_lock",
    )

    def __init__(
        self,
        relative_accuracy: float = DEFAULT_RELATIVE_ACCURACY,
        max_buckets: int = DEFAULT_MAX_BUCKETS,
    ) -> None:
        if not 0 < relative_accuracy < 1:
            raise HistogramError(
                f"relative_accuracy must be between 0 and 1 (exclusive), got {relative_accuracy!r}"
            )
        if not isinstance(max_buckets, int) or max_buckets < 2:
            raise HistogramError(f"max_buckets must be an integer >= 2, got {max_buckets!r}")
        self.relative_accuracy = relative_accuracy
        self.max_buckets = max_buckets
        self._gamma = (1 + relative_accuracy) / (1 - relative_accuracy)
        self._log_gamma = math.log(self._gamma)
        self._positive: dict[int, int] = {}
        self._negative: dict[int, int] = {}
        self._zero = 0
        self._count = 0
        self._sum = 0.0
        self._min = math.inf
        self._max = -math.inf
        self._lock = threading.Lock()

    def record(self, value: float) -> None:
        """Add one value (any finite int or float)."""
        value = _finite(value)
        with self._lock:
            self._count += 1
            self._sum += value
            if value < self._min:
                self._min = value
            if value > self._max:
                self._max = value
            if value > MIN_INDEXABLE:
                store = self._positive
                key = math.ceil(math.log(value) / self._log_gamma)
            elif value < -MIN_INDEXABLE:
                store = self._negative
                key = math.ceil(math.log(-value) / self._log_gamma)
            else:
                self._zero += 1
                return
            store[key] = store.get(key, 0) + 1
            if len(store) > self.max_buckets:
                self._collapse(store)

    append = record

    def record_many(self, values: list[float]) -> None:
        """Add several values at once (as `record` would, one by one), under one lock."""
        if not values:
            return
        if set(map(type, values)) == _FLOATS and math.isfinite(sum(values)):
            clean = values  # the usual batch: every value a finite float, checked in C
        else:
            clean = [_finite(value) for value in values]
        log_gamma = self._log_gamma
        low, high = min(clean), max(clean)
        if low > MIN_INDEXABLE:
            # The usual batch (durations): every key computed and counted in C.
            positive = Counter(map(math.ceil, map(truediv, map(math.log, clean), repeat(log_gamma))))
            negative: Counter[int] = Counter()
        else:
            positive = Counter(math.ceil(math.log(v) / log_gamma) for v in clean if v > MIN_INDEXABLE)
            negative = Counter(math.ceil(math.log(-v) / log_gamma) for v in clean if v < -MIN_INDEXABLE)
        with self._lock:
            self._count += len(clean)
            # Added one by one, as `record` adds: sum() rounds differently on
            # Python 3.12 and later.
            self._sum = deque(accumulate(clean, initial=self._sum), maxlen=1)[0]
            self._min = min(self._min, low)
            self._max = max(self._max, high)
            self._zero += len(clean) - positive.total() - negative.total()
            for store, counts in ((self._positive, positive), (self._negative, negative)):
                for key, n in counts.items():
                    store[key] = store.get(key, 0) + n
                while len(store) > self.max_buckets:
                    self._collapse(store)

    def _collapse(self, store: dict[int, int]) -> None:
        # Merge the two lowest buckets: the smallest magnitudes lose accuracy
        # first, which keeps the high quantiles (latency tails) exact-to-a.
        low, second = sorted(store)[:2]
        store[second] += store.pop(low)

    # -- answers ----------------------------------------------------------

    @property
    def count(self) -> int:
        return self._count

    @property
    def sum(self) -> float:
        return self._sum

    @property
    def min(self) -> float | None:
        return None if self._count == 0 else self._min

    @property
    def max(self) -> float | None:
        return None if self._count == 0 else self._max

    @property
    def mean(self) -> float | None:
        with self._lock:
            return None if self._count == 0 else self._sum / self._count

    @property
    def bucket_count(self) -> int:
        """How many buckets are in use (the memory this histogram holds)."""
        with self._lock:
            return len(self._positive) + len(self._negative) + (1 if self._zero else 0)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[float]:
        """Every value recorded, smallest first, as the sketch holds it.

        The smallest and the largest are exact; each other value comes back
        within ``relative_accuracy`` of the value of its rank (unless low
        buckets were collapsed), so ``sum(h)`` is within it of ``h.sum``,
        which is exact. Memory stays bounded: values are made as they are
        read, from a copy of the buckets.
        """
        with self._lock:
            if self._count == 0:
                return iter(())
            buckets = [(sign * 2 * self._gamma**key / (self._gamma + 1), n) for sign, key, n in self._ordered()]
            low, high, count = self._min, self._max, self._count
        return _values(buckets, low, high, count)

    def quantile(self, q: float) -> float | None:
        """The value of rank ``q`` (0..1), within ``relative_accuracy``; None if empty."""
        if not 0 <= q <= 1:
            raise HistogramError(f"quantile must be between 0 and 1, got {q!r}")
        with self._lock:
            return self._quantile(q)

    def quantiles(self, qs: tuple[float, ...] = (0.5, 0.9, 0.99)) -> dict[float, float | None]:
        """Several quantiles at once, under one lock."""
        for q in qs:
            if not 0 <= q <= 1:
                raise HistogramError(f"quantile must be between 0 and 1, got {q!r}")
        with self._lock:
            return {q: self._quantile(q) for q in qs}

    def _quantile(self, q: float) -> float | None:
        if self._count == 0:
            return None
        if q == 0:
            return self._min
        if q == 1:
            return self._max
        rank = q * (self._count - 1)
        seen = 0
        for sign, key, n in self._ordered():
            seen += n
            if seen > rank:
                value = sign * 2 * self._gamma**key / (self._gamma + 1)
                return min(max(value, self._min), self._max)
        return self._max

    def _ordered(self) -> Iterator[tuple[int, int, int]]:
        # Negative buckets hold magnitudes: the largest magnitude is the
        # smallest value, so they are walked in descending key order.
        for key in sorted(self._negative, reverse=True):
            yield -1, key, self._negative[key]
        if self._zero:
            yield 0, 0, self._zero
        for key in sorted(self._positive):
            yield 1, key, self._positive[key]

    def summary(self) -> dict[str, Any]:
        """count, sum, min, max, mean, p50, p90, p99 as a JSON-ready dict."""
        with self._lock:
            count = self._count
            return {
                "count": count,
                "sum": self._sum,
                "min": None if count == 0 else self._min,
                "max": None if count == 0 else self._max,
                "mean": None if count == 0 else self._sum / count,
                "p50": self._quantile(0.5),
                "p90": self._quantile(0.9),
                "p99": self._quantile(0.99),
            }

    def merge(self, other: Histogram) -> None:
        """Add every value ``other`` has recorded (same accuracy required)."""
        if other.relative_accuracy != self.relative_accuracy:
            raise HistogramError(
                "cannot merge histograms of different accuracy: "
                f"{self.relative_accuracy} and {other.relative_accuracy}"
            )
        with other._lock:
            positive = dict(other._positive)
            negative = dict(other._negative)
            zero, count, total = other._zero, other._count, other._sum
            low, high = other._min, other._max
        with self._lock:
            for store, extra in ((self._positive, positive), (self._negative, negative)):
                for key, n in extra.items():
                    store[key] = store.get(key, 0) + n
                while len(store) > self.max_buckets:
                    self._collapse(store)
            self._zero += zero
            self._count += count
            self._sum += total
            self._min = min(self._min, low)
            self._max = max(self._max, high)

    def __repr__(self) -> str:
        return f"Histogram(count={self._count}, sum={self._sum!r}, buckets={self.bucket_count})"
