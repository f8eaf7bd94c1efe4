"""The 802.11 OFDM physical layer, 20 MHz: numerology, constellations, preamble,
pilots, transmitter and the receiver steps of the EVAL chain (paper 003).

Pure NumPy, the bottom layer of the house: the simulator's sensors and the chapters
import it, and it imports nothing of theirs. Module by module, in the order of the
chain: :mod:`.numerology`, :mod:`.constellation`, :mod:`.pilots`, :mod:`.preamble`,
:mod:`.transmitter`, :mod:`.noise`, :mod:`.sync` (packet detection, timing and
frequency offset from the preamble), :mod:`.receiver`, :mod:`.classify`, :mod:`.evs`,
:mod:`.chain`.
"""

from .chain import Reception, receive, reference_symbols
from .classify import classify_modulation, kmeans_scores
from .constellation import (
    K_MOD,
    ORDERS,
    axis_levels,
    bits_per_symbol,
    demap_hard,
    hard_decision,
    map_bits,
    min_distance,
    points,
)
from .evs import (
    amplitude_phase,
    calibrate,
    equalized_error_vectors,
    error_vector_spectrum,
    pilot_common_phase,
    raw_error_vectors,
)
from .noise import awgn, check_snr, complex_normal, frequency_shift
from .numerology import (
    CP_LEN,
    DATA_K,
    DATA_POS,
    N_FFT,
    PILOT_K,
    PILOT_POS,
    SAMPLE_RATE_HZ,
    SUBCARRIER_SPACING_HZ,
    SYMBOL_LEN,
    USED_K,
    fft_bins,
    subcarrier_frequencies,
    subcarrier_indices,
)
from .pilots import POLARITY, pilot_polarity, pilot_symbols, scrambler_bits
from .preamble import LTF_USED, legacy_preamble, ltf, stf
from .receiver import (
    equalize,
    frequency_offset_from_phase,
    ltf_channel_estimate,
    ofdm_demodulate,
    pilot_phase,
)
from .sync import (
    Detection,
    detect_packets,
    frames_at,
    preamble_offset,
    preamble_snr,
    rotation,
    stf_metric,
)
from .transmitter import Packets, frame_length, ofdm_modulate, symbol_grid, transmit

__all__ = [
    "CP_LEN", "DATA_K", "Detection", "detect_packets", "frames_at", "preamble_offset",
    "preamble_snr", "rotation", "stf_metric", "DATA_POS", "K_MOD", "LTF_USED", "N_FFT", "ORDERS", "PILOT_K",
    "PILOT_POS", "POLARITY", "Packets", "Reception", "SAMPLE_RATE_HZ",
    "SUBCARRIER_SPACING_HZ", "SYMBOL_LEN", "USED_K", "amplitude_phase", "awgn",
    "axis_levels", "bits_per_symbol", "calibrate", "check_snr", "classify_modulation",
    "complex_normal", "demap_hard", "equalize", "equalized_error_vectors", "error_vector_spectrum", "fft_bins",
    "frame_length", "frequency_offset_from_phase", "frequency_shift", "hard_decision",
    "kmeans_scores", "legacy_preamble", "ltf", "ltf_channel_estimate", "map_bits",
    "min_distance", "ofdm_demodulate", "ofdm_modulate", "pilot_phase", "pilot_polarity",
    "pilot_common_phase", "pilot_symbols", "points", "raw_error_vectors", "receive", "reference_symbols",
    "scrambler_bits", "stf", "subcarrier_frequencies", "subcarrier_indices", "symbol_grid",
    "transmit",
]
