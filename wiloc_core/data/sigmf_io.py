"""802.11 OFDM recordings in SigMF: the simulator writes them, the EVAL receiver reads them.

A SigMF recording (SigMF specification v1.x, https://sigmf.org) is a pair of files:
``NAME.sigmf-data``, the raw samples, and ``NAME.sigmf-meta``, JSON with a ``global``
object (``core:datatype``, ``core:sample_rate``, ``core:version``, ...), a list of
``captures`` (``core:sample_start``, ``core:frequency``: the centre frequency) and a
list of ``annotations`` (``core:sample_start``, ``core:sample_count``,
``core:label``, ...).

:func:`write_sigmf` stores simulated packets (:mod:`wiloc_core.data.eval_packets`) as
one recording: complex float32 little-endian samples (``cf32_le``) at 20 MS/s,
centre frequency 5.22 GHz, the packets separated by noise-only gaps, one annotation
per packet with its class name in ``core:label`` and the class index, modulation
order and carrier offset in the ``wiloc`` extension namespace. The metadata is checked
against the SigMF schema by the ``sigmf`` package before anything is written, and
both files are written atomically.

:func:`read_sigmf` reads any single-channel complex recording at 20 MS/s: it takes the
sample rate and centre frequency from the metadata, detects the packets blindly
(:func:`wiloc_core.phy.sync.detect_packets`: STF delay-and-correlate, LTF timing,
coarse and fine frequency offsets), removes each packet's offset, runs the EVAL chain
(:func:`wiloc_core.phy.receive`) and gives each packet the label of the annotation it
falls in. Frames must not carry a SIGNAL field unless ``signal_field=True`` (then
the 80 samples after the L-LTF are skipped); the number of DATA symbols comes from the
argument or the ``wiloc:n_symbols`` global field, since the SIGNAL field is not decoded.

Every defect of the files raises :class:`~wiloc_core.errors.DataFormatError` naming the
file, the field and what was expected.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wiloc_core import phy
from wiloc_core.atomic import write_bytes, write_text
from wiloc_core.errors import DataFormatError, ParameterError
from wiloc_core.phy.sync import Detection, detect_packets, frames_at, preamble_snr
from wiloc_core.seeding import rng as make_rng

from .eval_packets import CLASS_NAMES, EvalPackets

#: Centre frequency of the EVAL link (paper 003 §IV), Hz.
CENTER_HZ = 5.22e9
#: Noise-only samples before, between and after packets written by :func:`write_sigmf`.
GAP = 400
#: Complex SigMF datatypes the reader accepts: name -> (NumPy component dtype, scale).
DATATYPES = {
    "cf32_le": ("<f4", 1.0), "cf32_be": (">f4", 1.0), "cf64_le": ("<f8", 1.0),
    "cf64_be": (">f8", 1.0), "ci32_le": ("<i4", 2.0**-31), "ci32_be": (">i4", 2.0**-31),
    "ci16_le": ("<i2", 2.0**-15), "ci16_be": (">i2", 2.0**-15), "ci8": ("i1", 2.0**-7),
}
_AS_COMPLEX = {"<f4": "<c8", ">f4": ">c8", "<f8": "<c16", ">f8": ">c16"}
_EXTENSION = {"name": "wiloc", "version": "1.0.0", "optional": True}


def sigmf_paths(path) -> tuple[Path, Path]:
    """(``.sigmf-meta``, ``.sigmf-data``) paths of a recording named by either file or its base."""
    path = Path(path)
    if path.suffix in (".sigmf-meta", ".sigmf-data"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".sigmf-meta"), path.with_name(path.name + ".sigmf-data")


# --------------------------------------------------------------------------- writer
def _layout(packets: EvalPackets, gap: int, seed) -> tuple[np.ndarray, np.ndarray]:
    """Recording samples (noise gaps around the frames) and each frame's start."""
    n, frame_len = packets.samples.shape
    starts = gap + np.arange(n, dtype=np.int64) * (frame_len + gap)
    total = int(starts[-1]) + frame_len + gap
    g = make_rng(seed)
    # Each gap carries the noise of the packet after it (the last one that of the last).
    owner = np.minimum(np.arange(total) // (frame_len + gap), n - 1)
    x = np.sqrt(packets.noise_var[owner] / 2) * g.standard_normal((total, 2)).view(
        np.complex128)[:, 0]
    x[starts[:, None] + np.arange(frame_len)] = packets.samples
    return x, starts


def _metadata(packets: EvalPackets, starts, data: bytes, *, center_hz: float,
              description: str) -> dict:
    import sigmf

    frame_len = packets.samples.shape[1]
    annotations = [{"core:sample_start": int(s), "core:sample_count": frame_len,
                    "core:label": CLASS_NAMES[int(c)], "wiloc:class": int(c),
                    "wiloc:order": int(packets.order), "wiloc:cfo_hz": float(f)}
                   for s, c, f in zip(starts, packets.label, packets.cfo_hz, strict=True)]
    return {
        "global": {
            "core:datatype": "cf32_le", "core:sample_rate": float(phy.SAMPLE_RATE_HZ),
            "core:version": sigmf.__specification__, "core:num_channels": 1,
            "core:sha512": hashlib.sha512(data).hexdigest(),
            "core:description": description, "core:recorder": "wiloc scene simulator",
            "core:extensions": [_EXTENSION],
            "wiloc:n_symbols": int(packets.n_symbols), "wiloc:signal_field": False,
            "wiloc:snr_db": float(10 * np.log10(packets.snr)),
            "wiloc:classes": list(CLASS_NAMES),
        },
        "captures": [{"core:sample_start": 0, "core:frequency": float(center_hz)}],
        "annotations": annotations,
    }


def write_sigmf(path, packets: EvalPackets, *, center_hz: float = CENTER_HZ, gap: int = GAP,
                seed=0, description: str = "simulated 802.11 OFDM packets, eval-room preset",
                validate: bool = True) -> tuple[Path, Path]:
    """Store simulated packets as a SigMF recording (cf32_le, 20 MS/s).

    Parameters
    ----------
    path : str or path-like
        Base name (``.sigmf-meta`` / ``.sigmf-data`` are appended) or either file.
    packets : EvalPackets
    center_hz : float
        ``core:frequency`` of the capture (Hz).
    gap : int >= 64
        Noise-only samples before each packet and after the last; the noise power is
        that of the packet that follows.
    seed : int or numpy.random.Generator
        Draws the gaps' noise.
    description : str
    validate : bool
        Check the metadata against the SigMF schema (``sigmf.validate``) first.

    Returns
    -------
    (meta_path, data_path) : tuple of pathlib.Path
    """
    if not (isinstance(gap, int | np.integer) and gap >= 64):
        raise ParameterError("gap", "an int >= 64 (samples of noise between packets)", gap)
    if len(packets) == 0:
        raise ParameterError("packets", "at least one packet", 0)
    meta_path, data_path = sigmf_paths(path)
    x, starts = _layout(packets, int(gap), seed)
    data = x.astype("<c8").tobytes()
    meta = _metadata(packets, starts, data, center_hz=center_hz, description=description)
    if validate:
        from sigmf.validate import validate as check

        check(meta)
    write_bytes(data_path, data)
    write_text(meta_path, json.dumps(meta, indent=2) + "\n")
    return meta_path, data_path


# --------------------------------------------------------------------------- reader
def _load_meta(meta_path: Path) -> dict:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DataFormatError(meta_path, "file", "UTF-8 JSON text", str(exc)) from exc
    except json.JSONDecodeError as exc:
        raise DataFormatError(meta_path, "file", "SigMF metadata in JSON",
                              f"invalid JSON at line {exc.lineno}, column {exc.colno}: "
                              f"{exc.msg}") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("global"), dict):
        raise DataFormatError(meta_path, "global", "a JSON object with a 'global' object",
                              type(meta.get("global") if isinstance(meta, dict) else meta).__name__)
    return meta


def _number(meta_path, obj: dict, key: str, where: str, *, positive: bool = True) -> float:
    value = obj.get(key)
    field = f"{where}.{key}"
    if value is None:
        raise DataFormatError(meta_path, field, "a number (required)", "nothing")
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value) \
            or (positive and value <= 0):
        raise DataFormatError(meta_path, field, "a positive finite number" if positive
                              else "a finite number", repr(value))
    return float(value)


def _datatype(meta_path, glob: dict) -> tuple[str, str, float]:
    name = glob.get("core:datatype")
    if name is None:
        raise DataFormatError(meta_path, "global.core:datatype", "a datatype (required)", "nothing")
    if name not in DATATYPES:
        raise DataFormatError(meta_path, "global.core:datatype",
                              f"a complex datatype, one of {sorted(DATATYPES)}", repr(name))
    component, scale = DATATYPES[name]
    return name, component, scale


def _check_global(meta_path, glob: dict):
    if "core:version" not in glob:
        raise DataFormatError(meta_path, "global.core:version", "the SigMF version (required)",
                              "nothing")
    channels = glob.get("core:num_channels", 1)
    if channels != 1:
        raise DataFormatError(meta_path, "global.core:num_channels", "1 (a single channel)",
                              repr(channels))
    for key in ("core:trailing_bytes", "core:dataset", "core:metadata_only"):
        if glob.get(key):
            raise DataFormatError(meta_path, f"global.{key}", "a conforming dataset (field "
                                  "absent)", repr(glob[key]))


def _capture(meta_path, meta: dict) -> float:
    captures = meta.get("captures")
    if not isinstance(captures, list) or not captures or not isinstance(captures[0], dict):
        raise DataFormatError(meta_path, "captures", "a list with at least one capture object",
                              repr(captures)[:80])
    for i, cap in enumerate(captures):
        if not isinstance(cap, dict) or cap.get("core:header_bytes"):
            raise DataFormatError(meta_path, f"captures[{i}].core:header_bytes",
                                  "a conforming dataset (no header bytes)", repr(cap)[:80])
    return _number(meta_path, captures[0], "core:frequency", "captures[0]")


def _annotations(meta_path, meta: dict, n_samples: int, data_path: Path):
    """(start, count, label name, class index) of every annotation, checked against the data."""
    annotations = meta.get("annotations", [])
    if not isinstance(annotations, list):
        raise DataFormatError(meta_path, "annotations", "a list", type(annotations).__name__)
    out = np.zeros((len(annotations), 3), dtype=np.int64)
    names = []
    for i, a in enumerate(annotations):
        where = f"annotations[{i}]"
        if not isinstance(a, dict):
            raise DataFormatError(meta_path, where, "an object", repr(a)[:80])
        start, count = a.get("core:sample_start"), a.get("core:sample_count")
        for key, v in (("core:sample_start", start), ("core:sample_count", count)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise DataFormatError(meta_path, f"{where}.{key}", "a non-negative integer",
                                      repr(v))
        if start + count > n_samples:
            raise DataFormatError(data_path, f"{where} (samples {start}..{start + count - 1})",
                                  f"at least {start + count} samples, as annotated in "
                                  f"{meta_path.name}", f"{n_samples} samples")
        label = a.get("core:label", "")
        cls = a.get("wiloc:class", CLASS_NAMES.index(label) if label in CLASS_NAMES else -1)
        out[i] = start, count, int(cls)
        names.append(str(label))
    return out, names


def _read_data(meta_path, data_path: Path, glob: dict, component: str) -> np.ndarray:
    """The data file as a read-only byte map, checked to hold a whole number of samples."""
    if not data_path.is_file():
        raise DataFormatError(meta_path, "dataset", f"the data file {data_path.name} next to "
                              "the metadata", "no such file")
    n_bytes = data_path.stat().st_size
    size = 2 * np.dtype(component).itemsize
    if n_bytes % size:
        raise DataFormatError(data_path, "length", f"a multiple of {size} bytes (one "
                              f"{glob['core:datatype']} sample)", f"{n_bytes} bytes")
    if n_bytes == 0:
        return np.zeros(0, dtype=np.uint8)
    return np.memmap(data_path, dtype=np.uint8, mode="r")


def _check_hash(meta_path, data_path: Path, glob: dict, raw: np.ndarray) -> None:
    digest = glob.get("core:sha512")
    if not digest:
        return
    h = hashlib.sha512()
    for i in range(0, raw.size, 1 << 26):
        h.update(raw[i:i + (1 << 26)].tobytes())
    if h.hexdigest() != digest:
        raise DataFormatError(data_path, "core:sha512", f"the data hash given in {meta_path.name}",
                              "a different hash (the data changed)")


def _decode(raw: np.ndarray, first: int, stop: int, component: str, scale: float) -> np.ndarray:
    """Samples ``first:stop`` as complex128 from interleaved I/Q bytes (fixed point scaled
    to [-1, 1))."""
    size = 2 * np.dtype(component).itemsize
    chunk = np.asarray(raw[first * size:stop * size])
    if component in _AS_COMPLEX:
        return chunk.view(_AS_COMPLEX[component]).astype(np.complex128)
    pairs = chunk.view(component).reshape(-1, 2).astype(np.float64) * scale
    return pairs[:, 0] + 1j * pairs[:, 1]


@dataclass(frozen=True)
class Recording:
    """Packets read from a SigMF recording and what the EVAL chain made of them.

    Attributes
    ----------
    path : pathlib.Path
        The metadata file.
    sample_rate_hz, center_hz : float
        From ``global.core:sample_rate`` and ``captures[0].core:frequency`` (Hz).
    n_samples : int
    n_symbols : int
        DATA symbols per frame.
    detection : Detection
        Frame starts (samples), carrier offsets (Hz) and LTF match of each packet.
    reception : wiloc_core.phy.Reception or None
        CSI, pilot phases, equalised symbols, modulation, decisions, raw EVS of each
        packet (``None`` when no packet was found).
    snr : numpy.ndarray, float64, shape (n_packets,)
        SNR measured on each packet's L-LTF (linear).
    label : numpy.ndarray, int64, shape (n_packets,)
        Class of the annotation containing the packet's middle sample (``wiloc:class``, or the
        index of ``core:label`` in :data:`CLASS_NAMES`); -1 if none does.
    label_name : tuple of str
        ``core:label`` of that annotation ("" if none).
    annotations : numpy.ndarray, int64, shape (n_annotations, 3)
        (sample_start, sample_count, class) of every annotation.
    """

    path: Path
    sample_rate_hz: float
    center_hz: float
    n_samples: int
    n_symbols: int
    detection: Detection
    reception: phy.Reception
    snr: np.ndarray
    label: np.ndarray
    label_name: tuple
    annotations: np.ndarray

    def __len__(self) -> int:
        return len(self.detection)


def _n_symbols(meta_path, glob: dict, n_symbols):
    if n_symbols is None:
        n_symbols = glob.get("wiloc:n_symbols")
        if n_symbols is None:
            raise DataFormatError(meta_path, "global.wiloc:n_symbols", "the number of DATA "
                                  "symbols per frame (or pass n_symbols=)", "nothing")
    if isinstance(n_symbols, bool) or not isinstance(n_symbols, int | np.integer) \
            or n_symbols < 1:
        raise DataFormatError(meta_path, "global.wiloc:n_symbols", "a positive integer",
                              repr(n_symbols))
    return int(n_symbols)


def _frames(x, detection: Detection, n_symbols: int, signal_field: bool) -> np.ndarray:
    """Offset-free frames; with a SIGNAL field, its 80 samples are cut out."""
    skip = phy.SYMBOL_LEN if signal_field else 0
    frame_len = phy.frame_length(n_symbols) + skip
    y = frames_at(x, detection.start, frame_len, detection.cfo_hz)
    if skip:
        y = np.concatenate([y[:, :320], y[:, 320 + skip:]], axis=1)
    return y


def read_sigmf(path, *, n_symbols: int | None = None, order: int | None = None,
               signal_field: bool | None = None, block: int = 1 << 22, **detect) -> Recording:
    """Read a SigMF recording of 802.11 packets, detect them and run the EVAL chain.

    Parameters
    ----------
    path : str or path-like
        The ``.sigmf-meta`` or ``.sigmf-data`` file, or their common base name.
    n_symbols : int, optional
        DATA symbols per frame; default the ``wiloc:n_symbols`` global field.
    order : {2, 4, 16, 64}, optional
        Known modulation order; ``None`` lets k-means classify each packet.
    signal_field : bool, optional
        Whether frames carry a SIGNAL symbol after the L-LTF; default the
        ``wiloc:signal_field`` global field, else True (as every real 802.11 frame).
    block : int
        Samples decoded and searched at a time (the data file is memory-mapped, so a
        long capture never sits in memory whole).
    **detect
        Passed to :func:`wiloc_core.phy.sync.detect_packets` (``threshold``,
        ``backoff``, ...).

    Returns
    -------
    Recording

    Raises
    ------
    FileNotFoundError
        If the metadata file does not exist.
    DataFormatError
        Bad JSON; a missing or wrong global field (``core:datatype`` not complex,
        ``core:sample_rate`` not 20 MS/s, more than one channel); no capture centre
        frequency; a data file whose length is not a whole number of samples, whose
        hash differs from ``core:sha512``, or that ends before the last annotation.
    """
    meta_path, data_path = sigmf_paths(path)
    if not meta_path.is_file():
        raise FileNotFoundError(f"{meta_path}: SigMF metadata file not found")
    meta = _load_meta(meta_path)
    glob = meta["global"]
    name, component, scale = _datatype(meta_path, glob)
    rate = _number(meta_path, glob, "core:sample_rate", "global")
    if abs(rate - phy.SAMPLE_RATE_HZ) > 1e-6 * phy.SAMPLE_RATE_HZ:
        raise DataFormatError(meta_path, "global.core:sample_rate",
                              f"{phy.SAMPLE_RATE_HZ:g} samples/s (20 MHz 802.11 numerology)",
                              f"{rate:g}")
    _check_global(meta_path, glob)
    center = _capture(meta_path, meta)
    n_sym = _n_symbols(meta_path, glob, n_symbols)
    with_signal = bool(glob.get("wiloc:signal_field", True)) if signal_field is None \
        else bool(signal_field)
    raw = _read_data(meta_path, data_path, glob, component)
    n_samples = raw.size // (2 * np.dtype(component).itemsize)
    annotations, names = _annotations(meta_path, meta, n_samples, data_path)
    _check_hash(meta_path, data_path, glob, raw)
    frame_len = phy.frame_length(n_sym) + (phy.SYMBOL_LEN if with_signal else 0)
    if n_samples < frame_len:
        raise DataFormatError(data_path, "length", f"at least one frame ({frame_len} samples)",
                              f"{n_samples} samples")
    decode = functools.partial(_decode, raw, component=component, scale=scale)
    detection, reception, snr = _receive_blocks(decode, n_samples, frame_len, n_sym, with_signal,
                                                order, block, detect)
    label, label_name = _labels(detection.start + frame_len // 2, annotations, names)
    return Recording(meta_path, rate, center, int(n_samples), n_sym, detection, reception, snr,
                     label, label_name, annotations)


def _receive_blocks(decode, n_samples: int, frame_len: int, n_symbols: int, with_signal: bool,
                    order, block: int, detect: dict):
    """Detect and receive block by block; a packet belongs to the block its start is in.

    Each block is read with ``frame_len + 512`` samples of overlap, enough for the
    LTF search and the whole frame of a packet starting near its end.
    """
    overlap = frame_len + 512
    parts = []
    for first in range(0, n_samples, block):
        stop = min(first + block, n_samples)
        x = decode(first, min(stop + overlap, n_samples))
        if x.size < frame_len:
            break
        det = detect_packets(x, frame_len=frame_len, **detect)
        keep = det.start < stop - first
        det = Detection(det.start[keep] + first, det.cfo_hz[keep], det.metric[keep])
        if parts and len(det) and len(parts[-1][0]) \
                and det.start[0] - parts[-1][0].start[-1] < frame_len:
            det = Detection(det.start[1:], det.cfo_hz[1:], det.metric[1:])   # seen twice
        if len(det) == 0:
            continue
        frames = _frames(x, Detection(det.start - first, det.cfo_hz, det.metric), n_symbols,
                         with_signal)                  # (n_packets, 320 + 80 n_symbols)
        parts.append((det, phy.receive(frames, n_symbols, order=order), preamble_snr(frames)))
    if not parts:
        empty = np.zeros(0)
        return Detection(np.zeros(0, np.int64), empty, empty), None, empty
    detection = Detection(*(np.concatenate([getattr(p[0], f) for p in parts])
                            for f in ("start", "cfo_hz", "metric")))
    fields = [f.name for f in dataclasses.fields(phy.Reception)]
    reception = phy.Reception(*(np.concatenate([getattr(p[1], f) for p in parts])
                                for f in fields))
    return detection, reception, np.concatenate([p[2] for p in parts])


def _labels(start: np.ndarray, annotations: np.ndarray, names: list):
    """Class and name of the annotation containing each sample index (-1, "" if none)."""
    label = np.full(start.size, -1, dtype=np.int64)
    label_name = [""] * start.size
    if annotations.size:
        order = np.argsort(annotations[:, 0], kind="stable")
        a = annotations[order]
        i = np.searchsorted(a[:, 0], start, side="right") - 1
        inside = (i >= 0) & (start < a[np.maximum(i, 0), 0] + a[np.maximum(i, 0), 1])
        label[inside] = a[i[inside], 2]
        for j in np.flatnonzero(inside):
            label_name[j] = names[order[i[j]]]
    return label, tuple(label_name)
