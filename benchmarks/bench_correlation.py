"""Mean pairwise correlation: O(n·T) closed form vs the mean of np.corrcoef.

Prints both timings (best of a few runs), their ratio, the agreement, and the
blockwise mean absolute correlation's time and peak memory against
np.corrcoef's. Run: ``python benchmarks/bench_correlation.py [n_sources] [n_times]``.
"""

import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from core.sources.synchrony import mean_abs_pairwise_correlation, mean_pairwise_correlation  # noqa: E402


def best_of(fun, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fun()
        times.append(time.perf_counter() - t0)
    return min(times), out


def peak_memory(fun):
    tracemalloc.start()
    fun()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main(n=5000, t=500):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (n, 1)) * rng.standard_normal(t) + rng.standard_normal((n, t))

    def reference():
        c = np.corrcoef(x)
        return (c.sum() - np.trace(c)) / (n * (n - 1))

    def reference_abs():
        c = np.abs(np.corrcoef(x))
        return (c.sum() - n) / (n * (n - 1))

    t_ref, ref = best_of(reference)
    t_fast, fast = best_of(lambda: mean_pairwise_correlation(x), repeat=10)
    print(f"mean pairwise correlation, {n} sources x {t} samples")
    print(f"  np.corrcoef mean off-diagonal : {t_ref * 1e3:9.2f} ms  r = {ref:.12f}")
    print(f"  closed form O(n*T)            : {t_fast * 1e3:9.2f} ms  r = {fast:.12f}")
    print(f"  speed-up                      : {t_ref / t_fast:9.1f} x   |difference| = "
          f"{abs(ref - fast):.2e}")
    t_ref_abs, ref_abs = best_of(reference_abs, repeat=2)
    t_abs, fast_abs = best_of(lambda: mean_abs_pairwise_correlation(x), repeat=2)
    m_ref = peak_memory(reference_abs)
    m_abs = peak_memory(lambda: mean_abs_pairwise_correlation(x))
    print("mean absolute pairwise correlation (blockwise)")
    print(f"  np.corrcoef : {t_ref_abs * 1e3:9.2f} ms  peak {m_ref / 2**20:8.1f} MiB  "
          f"r = {ref_abs:.9f}")
    print(f"  blockwise   : {t_abs * 1e3:9.2f} ms  peak {m_abs / 2**20:8.1f} MiB  "
          f"r = {fast_abs:.9f}")
    print(f"  time ratio {t_ref_abs / t_abs:.2f} x, memory ratio {m_ref / m_abs:.1f} x")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
