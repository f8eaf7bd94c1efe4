"""Simulated 802.11 OFDM packets of the EVAL experiment (paper 003 §IV) and their features.

The scene is the simulator's ``eval-room`` preset (:mod:`wiloc_core.sim.presets`): a
5.22 GHz, 20 MHz SISO link across a conference room in which a person stands at one
of 25 spots, or nobody does (26 classes: :data:`CLASS_NAMES`, class 25 the empty room).
Per class, the ray tracer (:func:`wiloc_core.sim.paths.trace`) gives the multipath with
the person in place, and the OFDM sensor turns it into channel taps
(:func:`wiloc_core.sim.sensors.ofdm.channel_taps`), filters the transmitted frames
(:func:`~wiloc_core.sim.sensors.ofdm.apply_channel`) and adds the receiver's carrier
frequency offset, start phase, per-symbol phase drift and AWGN
(:func:`~wiloc_core.sim.sensors.ofdm.receiver_front_end`). The frames come from the
PHY layer's transmitter (:func:`wiloc_core.phy.transmit`: L-STF, L-LTF, DATA symbols,
no SIGNAL field).

Choices that are ours, not the paper's: 20 DATA symbols per packet of 16-QAM; a
carrier offset uniform in +-100 kHz (802.11 allows +-20 ppm per device, i.e. up to
+-209 kHz between two at 5.22 GHz: the transmit centre frequency tolerance of
IEEE 802.11-2020 clause 17) and a uniform start phase per packet; a phase drift of
0.02 rad per symbol; no sampling-clock offset; the SNR is the received signal power
(:func:`signal_power`) over the noise power of each link (the preset's 25 dB by
default).

The channel taps are kept inside the 0.8 us guard interval (:data:`N_TAPS` = 14 taps:
3 samples of precursor before the first path, a Hann-tapered sinc of half-width 6),
so that the channel is an exact circular convolution on every FFT window and the
chain's EVS equals the channel (its phase measured from the pilots) for a noiseless
link; the DFT of these taps is the
scene's channel (eq. 1) to within a few per cent at the band edges.

The receiver (:func:`receive_packets`) removes the preamble's frequency offset
(:func:`wiloc_core.phy.sync.preamble_offset`) and runs the EVAL chain
(:func:`wiloc_core.phy.receive`); :func:`eval_features` turns its CSI and EVS into the
classifiers' inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core import phy
from wiloc_core.errors import ParameterError
from wiloc_core.phy.sync import frames_at, preamble_offset, preamble_snr
from wiloc_core.sim.paths import trace
from wiloc_core.sim.presets import preset
from wiloc_core.sim.sensors.ofdm import apply_channel, channel_taps, receiver_front_end

#: Class names: the 25 standing spots of the preset (row-major), then the empty room.
CLASS_NAMES = tuple(f"spot {i + 1}" for i in range(25)) + ("empty",)
#: Class index of the empty room.
EMPTY = 25
#: Channel taps per link (inside the 16-sample guard interval), precursor, pulse half-width.
N_TAPS, PRE_SAMPLES, HALF_WIDTH = 14, 3, 6
#: Packets per independently seeded block (see :func:`simulate_eval_packets`).
BLOCK = 1000
#: Defaults: DATA symbols, modulation order, largest |CFO| (Hz), drift per symbol (rad).
N_SYMBOLS, ORDER, CFO_MAX_HZ, DRIFT_RAD = 20, 16, 100e3, 0.02


def class_taps(*, max_order: int = 2, preset_seed=0) -> np.ndarray:
    """Channel taps of the ``eval-room`` link for each of the 26 classes.

    Parameters
    ----------
    max_order : int
        Wall-reflection order of the image method.
    preset_seed : int
        Draws the preset's clutter and diffuse tail.

    Returns
    -------
    numpy.ndarray, complex128, shape (26, N_TAPS)
        Row c: the person at spot c + 1 (rows 0-24) or nobody (row 25); tap 0 is
        ``PRE_SAMPLES`` samples before the first path.
    """
    p = preset("eval-room", seed=preset_seed)
    rx = p.receivers[0]
    scene = p.scene.with_people([p.person.moved(*p.spots[0])])
    with_person = trace(scene, rx, max_order=max_order, people_xy=p.spots[:, None, :])
    empty = trace(p.scene, rx, max_order=max_order)
    kw = {"n_taps": N_TAPS, "pre_samples": PRE_SAMPLES, "half_width": HALF_WIDTH}
    return np.vstack([channel_taps(with_person, **kw)[0], channel_taps(empty, **kw)[0]])


def signal_power(taps) -> np.ndarray:
    """Received power of an 802.11 frame of unit transmit power through ``taps``.

    The frame's power is spread evenly over the 52 used subcarriers, so the received
    power is the mean of |H_k|^2 over them (not the taps' total energy, which also
    counts the empty band edges).

    Parameters
    ----------
    taps : array_like, complex, shape (..., n_taps)

    Returns
    -------
    numpy.ndarray, float64, shape (...)
    """
    h = np.asarray(taps, dtype=np.complex128)
    H = h @ np.exp(-2j * np.pi * np.outer(np.arange(h.shape[-1]), phy.USED_K) / phy.N_FFT)
    return np.mean(np.abs(H) ** 2, axis=-1)


@dataclass(frozen=True)
class EvalPackets:
    """Received packets with their ground truth.

    Attributes
    ----------
    samples : numpy.ndarray, complex128, shape (n_packets, 320 + 80 n_symbols)
        Received baseband at 20 MS/s, each row one frame starting with its L-STF.
    label : numpy.ndarray, int64, shape (n_packets,)
        Class index into :data:`CLASS_NAMES`.
    symbols : numpy.ndarray, complex128, shape (n_packets, n_symbols, 48)
        Transmitted data points.
    order : int
        Modulation order.
    cfo_hz : numpy.ndarray, float64, shape (n_packets,), Hz
    noise_var : numpy.ndarray, float64, shape (n_packets,)
        Noise power per complex sample (the frames' signal power is that of the taps).
    snr : float
        Linear SNR asked for.
    """

    samples: np.ndarray
    label: np.ndarray
    symbols: np.ndarray
    order: int
    cfo_hz: np.ndarray
    noise_var: np.ndarray
    snr: float

    @property
    def n_symbols(self) -> int:
        return self.symbols.shape[1]

    def __len__(self) -> int:
        return int(self.label.size)


def _check_classes(classes) -> np.ndarray:
    c = np.arange(len(CLASS_NAMES)) if classes is None else np.asarray(classes, dtype=np.int64)
    if c.ndim != 1 or c.size == 0 or c.min() < 0 or c.max() >= len(CLASS_NAMES):
        raise ParameterError("classes", f"class indices in 0..{len(CLASS_NAMES) - 1}", classes)
    return c


def _block(taps, label: int, n: int, rng, *, snr, n_symbols, order, cfo_max_hz, drift_rad):
    """One block of ``n`` packets of one class from its own generator."""
    tx = phy.transmit(n, n_symbols, order, seed=rng)
    y = apply_channel(tx.samples, taps[label][None, :])
    cfo = rng.uniform(-cfo_max_hz, cfo_max_hz, n)
    start_phase = rng.uniform(-np.pi, np.pi, n)
    noise_var = np.full(n, signal_power(taps[label]) / snr)
    r = receiver_front_end(y, noise_var=noise_var, cfo_hz=cfo, phase_rad=start_phase,
                           drift_rad=drift_rad, seed=rng)
    return r, tx.symbols, cfo, noise_var


def _blocks(n_per_class: int, classes, seed: int):
    """(class, block index, packets in the block, its generator), in output order."""
    if not (isinstance(n_per_class, int | np.integer) and n_per_class >= 1):
        raise ParameterError("n_per_class", "a positive integer", n_per_class)
    if not isinstance(seed, int | np.integer):
        raise ParameterError("seed", "an int (each class and block gets its own stream)", seed)
    for c in _check_classes(classes):
        for b, first in enumerate(range(0, n_per_class, BLOCK)):
            rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(c), b)))
            yield int(c), min(BLOCK, n_per_class - first), rng


def _settings(snr_db, order, n_symbols, cfo_max_hz, drift_rad):
    if snr_db is None:                       # the preset's SNR
        snr = preset("eval-room").settings["snr"]
    else:
        snr = phy.check_snr(10 ** (float(snr_db) / 10), "snr_db")
    if not cfo_max_hz >= 0:
        raise ParameterError("cfo_max_hz", "a non-negative offset (Hz)", cfo_max_hz)
    return {"snr": snr, "n_symbols": n_symbols, "order": order, "cfo_max_hz": float(cfo_max_hz),
            "drift_rad": float(drift_rad)}


def simulate_eval_packets(n_per_class: int, *, classes=None, snr_db: float | None = 25.0,
                          n_symbols: int = N_SYMBOLS, order: int = ORDER,
                          cfo_max_hz: float = CFO_MAX_HZ, drift_rad: float = DRIFT_RAD,
                          max_order: int = 2, preset_seed=0, seed: int = 0) -> EvalPackets:
    """Received packets of the EVAL experiment, ``n_per_class`` for each class.

    Parameters
    ----------
    n_per_class : int >= 1
    classes : sequence of int, optional
        Class indices (default all 26, in order); packets come class by class.
    snr_db : float or None
        SNR of every link (dB); ``numpy.inf`` for no noise; ``None`` for the preset's
        (25 dB).
    n_symbols : int
        DATA symbols per packet.
    order : {2, 4, 16, 64}
    cfo_max_hz : float
        Carrier offsets are uniform in +-``cfo_max_hz`` (0: none).
    drift_rad : float
        Phase drift per OFDM symbol (rad, 0: none).
    max_order : int
        Wall-reflection order.
    preset_seed : int
        The preset's clutter.
    seed : int
        Packets of class c are drawn in blocks of :data:`BLOCK`, block b from
        ``SeedSequence(seed, spawn_key=(c, b))``: the same seed gives the same packets,
        and a class's packets do not depend on which other classes are asked for.

    Returns
    -------
    EvalPackets
    """
    settings = _settings(snr_db, order, n_symbols, cfo_max_hz, drift_rad)
    taps = class_taps(max_order=max_order, preset_seed=preset_seed)
    parts, labels = [], []
    for c, n, rng in _blocks(n_per_class, classes, seed):
        parts.append(_block(taps, c, n, rng, **settings))
        labels.append(np.full(n, c, dtype=np.int64))
    samples, symbols, cfo, noise_var = (np.concatenate(a) for a in zip(*parts, strict=True))
    return EvalPackets(samples, np.concatenate(labels), symbols, int(order), cfo, noise_var,
                       settings["snr"])


def receive_packets(samples, n_symbols: int, *, order: int | None = None,
                    correct_offset: bool = True) -> phy.Reception:
    """The EVAL receiver on time-aligned frames: preamble CFO removal, then the chain.

    Parameters
    ----------
    samples : array_like, complex, shape (n_packets, n_samples)
        Frames starting with their L-STF, 20 MS/s.
    n_symbols : int
    order : {2, 4, 16, 64}, optional
        Known modulation order; ``None`` lets k-means classify it (eq. 18).
    correct_offset : bool
        Remove the carrier offset estimated on the STF and LTF first
        (:func:`wiloc_core.phy.sync.preamble_offset`); the pilots track what is left.

    Returns
    -------
    wiloc_core.phy.Reception
    """
    x = np.atleast_2d(np.asarray(samples, dtype=np.complex128))
    if correct_offset:
        x = frames_at(x.ravel(), np.arange(x.shape[0]) * x.shape[1], x.shape[1],
                      preamble_offset(x))
    return phy.receive(x, n_symbols, order=order)


@dataclass(frozen=True)
class EvalDataset:
    """What the receiver keeps of each packet: the inputs of every feature.

    Attributes
    ----------
    csi : numpy.ndarray, complex128, shape (n_packets, 52)
        L-LTF channel estimate H-hat on ``phy.USED_K`` (eq. 13).
    evs : numpy.ndarray, complex128, shape (n_packets, 52)
        Raw error vector spectrum (eq. 23): channel on the DATA symbols, RFO removed
        (:mod:`wiloc_core.phy.evs`).
    label : numpy.ndarray, int64, shape (n_packets,)
    order : numpy.ndarray, int64, shape (n_packets,)
        Modulation order the classifier chose.
    snr : numpy.ndarray, float64, shape (n_packets,)
        SNR measured on the L-LTF (linear).
    symbol_errors : numpy.ndarray, int64, shape (n_packets,)
        Data points decided wrongly (out of 48 n_symbols), when the truth is known.
    """

    csi: np.ndarray
    evs: np.ndarray
    label: np.ndarray
    order: np.ndarray
    snr: np.ndarray
    symbol_errors: np.ndarray

    def __len__(self) -> int:
        return int(self.label.size)


def reception_dataset(packets: EvalPackets, *, order: int | None = None) -> EvalDataset:
    """Run :func:`receive_packets` on simulated packets and keep CSI, raw EVS and labels."""
    rx = receive_packets(packets.samples, packets.n_symbols, order=order)
    errors = np.sum(rx.data_symbols != packets.symbols, axis=(1, 2))
    return EvalDataset(rx.csi, rx.evs, packets.label, rx.order, preamble_snr(packets.samples),
                       errors.astype(np.int64))


def simulate_eval_dataset(n_per_class: int, *, classes=None, snr_db: float | None = 25.0,
                          n_symbols: int = N_SYMBOLS, order: int = ORDER,
                          cfo_max_hz: float = CFO_MAX_HZ, drift_rad: float = DRIFT_RAD,
                          max_order: int = 2, preset_seed=0, seed: int = 0,
                          known_order: bool = False) -> EvalDataset:
    """Simulate and receive block by block, keeping only what features need.

    The same packets as :func:`simulate_eval_packets` with the same arguments (same
    blocks, same generators), without holding all their samples at once: 5000 packets
    per class of 20 symbols would be 2.5 GB of complex128 samples per class. Parameters
    as there; ``known_order`` gives the receiver the modulation order instead of
    classifying it.

    Returns
    -------
    EvalDataset
    """
    settings = _settings(snr_db, order, n_symbols, cfo_max_hz, drift_rad)
    taps = class_taps(max_order=max_order, preset_seed=preset_seed)
    parts = []
    for c, n, rng in _blocks(n_per_class, classes, seed):
        r, symbols, cfo, noise_var = _block(taps, c, n, rng, **settings)
        block = EvalPackets(r, np.full(n, c, dtype=np.int64), symbols, int(order), cfo,
                            noise_var, settings["snr"])
        parts.append(reception_dataset(block, order=int(order) if known_order else None))
    return EvalDataset(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                         ("csi", "evs", "label", "order", "snr", "symbol_errors")))


#: Feature names of :func:`eval_features`, in the order of paper 003 Fig. 7.
FEATURES = ("csi_amplitude", "csi_phase", "evs_amplitude", "evs_phase")


def eval_features(data: EvalDataset, *, beta_amplitude: float = 4.0, beta_phase: float = 6.0,
                  window: int | None = None, form: str = "mix") -> dict[str, np.ndarray]:
    """CSI and calibrated EVS amplitude and phase of every packet, ready for classifiers.

    CSI amplitude |H-hat_k| and phase arg H-hat_k (eq. 13); EVS amplitude and phase
    (eq. 5) of the raw EVS calibrated with beta (eq. 24, reconstructed in
    :func:`wiloc_core.phy.calibrate`): the paper chooses beta = 4 for the amplitude
    and 6 for the phase (§IV, Fig. 6). Calibration runs over the packets of each class
    separately, in their order, as over one recording of that class.

    With ``window=None`` the calibration's time average covers all packets of the
    class given, so features computed on training and test packets together share
    that average; pass a ``window`` (a causal moving average over that many packets)
    or calibrate each split separately to keep test packets out of training features.

    Parameters
    ----------
    data : EvalDataset
    beta_amplitude, beta_phase : float >= 0
    window : int, optional
        N_P of the calibration (see :func:`wiloc_core.phy.calibrate`).
    form : {"mix", "moving_average"}
        The reading of eq. 24 (:func:`wiloc_core.phy.calibrate`).

    Returns
    -------
    dict
        :data:`FEATURES` -> numpy.ndarray, float32, shape (n_packets, 52): amplitudes
        (linear; CSI in the units of the received samples) and phases (rad in
        (-pi, pi]) on ``phy.USED_K`` (k = -26..-1, 1..26), rows as in ``data``.
    """
    csi_amplitude, csi_phase = phy.amplitude_phase(data.csi)
    evs = {}
    for name, beta in (("amplitude", beta_amplitude), ("phase", beta_phase)):
        calibrated = np.empty_like(data.evs)
        for c in np.unique(data.label):
            rows = np.flatnonzero(data.label == c)
            calibrated[rows] = phy.calibrate(data.evs[rows], beta, window=window, form=form)
        evs[name] = phy.amplitude_phase(calibrated)[0 if name == "amplitude" else 1]
    out = {"csi_amplitude": csi_amplitude, "csi_phase": csi_phase,
           "evs_amplitude": evs["amplitude"], "evs_phase": evs["phase"]}
    return {k: v.astype(np.float32) for k, v in out.items()}
