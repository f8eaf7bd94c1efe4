"""Speed of the EVAL receiver chain (:mod:`wiloc_core.phy`) on one core.

``run()`` returns ``phy.packets_per_s``: frames per second through the whole chain
(FFT of L-LTF and DATA symbols, LTF channel estimate, pilot phase, ZF equalisation,
k-means modulation classification, hard decisions, raw EVS, calibration with beta = 4,
amplitude and phase), best of ``repeats`` runs. Target >= 2000 packets/s, so that the
full profile's 130 000 packets take about a minute.

Workload: 2000 frames of 20 DATA symbols (a 100-byte frame at 24-54 Mb/s is 5-10
symbols, at 6 Mb/s about 40), a quarter each BPSK, QPSK, 16-QAM and 64-QAM, through
a random 6-tap channel with an exponential power profile (inside the cyclic prefix),
a random carrier offset of up to +-2 kHz per packet and AWGN at 25 dB (the eval-room
preset's SNR). NumPy's FFT, bincount and element-wise kernels the chain uses run on
one thread, so the figure is for one core. Generating the frames is not timed.
"""

from __future__ import annotations

import time

import numpy as np

#: Frames, DATA symbols per frame, SNR (linear), largest carrier offset (Hz).
N_PACKETS, N_SYMBOLS, SNR, MAX_OFFSET_HZ = 2000, 20, 10**2.5, 2e3
#: Calibration parameter (the paper's choice for EVS amplitude).
BETA = 4.0


def frames(seed: int = 0):
    """(received samples (N_PACKETS, n_samples), transmitted data symbols, orders)."""
    from wiloc_core import phy
    from wiloc_core.sim.sensors.ofdm import apply_channel

    g = np.random.default_rng(seed)
    per_order = N_PACKETS // len(phy.ORDERS)
    sent = [phy.transmit(per_order, N_SYMBOLS, m, seed=g) for m in phy.ORDERS]
    x = np.concatenate([p.samples for p in sent])
    symbols = np.concatenate([p.symbols for p in sent])
    orders = np.repeat(phy.ORDERS, per_order)
    profile = np.exp(-np.arange(6) / 1.5)
    taps = phy.complex_normal((len(x), 6), g) * np.sqrt(profile / profile.sum())
    x = phy.frequency_shift(x, g.uniform(-MAX_OFFSET_HZ, MAX_OFFSET_HZ, len(x)),
                            phase_rad=g.uniform(-np.pi, np.pi, len(x)))
    return apply_channel(x, taps, snr=SNR, seed=g), symbols, orders


def _chain(y):
    from wiloc_core import phy

    rx = phy.receive(y, N_SYMBOLS)
    amplitude, phase = phy.amplitude_phase(phy.calibrate(rx.evs, BETA))
    return rx, amplitude, phase


def run(repeats: int = 3) -> dict:
    """Benchmark the receiver chain; see the module docstring."""
    y, symbols, orders = frames()
    _chain(y[:16])  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        rx, _, _ = _chain(y)
        best = min(best, time.perf_counter() - start)
    return {"phy.packets_per_s": {
        "value": round(N_PACKETS / best, 1), "unit": "packets/s", "target_min": 2000,
        "n_packets": N_PACKETS, "n_symbols": N_SYMBOLS,
        "order_accuracy": float(np.mean(rx.order == orders)),
        "symbol_error_rate": float(np.mean(rx.data_symbols != symbols))}}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
