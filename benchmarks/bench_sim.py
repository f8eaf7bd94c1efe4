"""Speed and memory of the radio-scene simulator.

``run()`` returns ``{metric: {"value": v, "unit": u}}``:

- ``sim.ctf_environment_s``: one whole CTF-paper environment (196 positions x 10 sweeps
  x 601 frequencies, reflection order 2, laboratory = the most cluttered preset, with
  its diffuse tail); target <= 2 s on two cores;
- ``sim.csi_5min_s``: 5 minutes of 100 Hz ESP32 CSI for a person walking in the LoFi
  room (30 000 packets, diffuse tail on); target <= 5 s;
- ``sim.ctf_sports_hall_s``: the sports hall, whose long diffuse tail (about 900
  components) makes it the slowest CTF environment; for information;
- ``sim.peak_memory_mib``: the larger traced Python-heap peak of the two (tracemalloc;
  NumPy reports its buffers to it); target < 1024 MiB.

Each timing is the best of ``repeats`` runs, measured without tracing; the memory
peak is measured in a separate traced run.
"""

from __future__ import annotations

import time
import tracemalloc


def _ctf_environment():
    from wiloc_core.sim.presets import simulate_ctf_environment

    return simulate_ctf_environment("laboratory", n_sweeps=10, max_order=2, seed=0)


def _ctf_sports_hall():
    from wiloc_core.sim.presets import simulate_ctf_environment

    return simulate_ctf_environment("sports-hall", n_sweeps=10, max_order=2, seed=0)


def _csi_5min():
    from wiloc_core.sim.presets import simulate_walk_csi

    return simulate_walk_csi("lofi-room", duration_s=300.0, rate_hz=100.0, seed=0)


def _best_time(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _peak_mib(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def run(repeats: int = 3) -> dict:
    """Benchmark the simulator; see the module docstring for the metrics."""
    import wiloc_core.sim  # noqa: F401  (import cost is not part of the timings)

    ctf_s = _best_time(_ctf_environment, repeats)
    csi_s = _best_time(_csi_5min, repeats)
    hall_s = _best_time(_ctf_sports_hall, repeats)
    peak = max(_peak_mib(_ctf_environment), _peak_mib(_csi_5min))
    return {
        "sim.ctf_environment_s": {"value": round(ctf_s, 3), "unit": "s"},
        "sim.csi_5min_s": {"value": round(csi_s, 3), "unit": "s"},
        "sim.ctf_sports_hall_s": {"value": round(hall_s, 3), "unit": "s"},
        "sim.peak_memory_mib": {"value": round(peak, 1), "unit": "MiB"},
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
