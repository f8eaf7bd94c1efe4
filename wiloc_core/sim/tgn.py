"""The IEEE 802.11 TGn indoor channel models B-F, as reference values for calibration.

Erceg et al., "TGn Channel Models", IEEE 802.11-03/940r4 (2004): each model is a
tapped delay line (10 ns tap spacing) of clusters with an exponential power decay,
a nominal RMS delay spread, a breakpoint distance d_BP with free-space path loss
(slope 2) before it and slope 3.5 after it, and a Ricean K-factor on the first tap
for links shorter than d_BP (LOS). The tap powers below are the NLOS power delay
profiles of that document (as implemented in MathWorks' WLAN Toolbox); in LOS the
first tap is split into a fixed part and a Rayleigh part in the ratio K, so the
power delay profile, and its delay spread, are the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.sim.scene import SPEED_OF_LIGHT


@dataclass(frozen=True)
class TgnModel:
    """One TGn model (Erceg et al., IEEE 802.11-03/940r4).

    Attributes
    ----------
    name : str
        ``"B"`` ... ``"F"``.
    environment : str
        The document's description.
    delays_ns : numpy.ndarray, float64, shape (n_taps,), ns
    powers_db : numpy.ndarray, float64, shape (n_taps,), dB
        Mean tap powers (NLOS power delay profile).
    nominal_rms_ns : float
        Nominal RMS delay spread (ns).
    breakpoint_m : float
        d_BP (m).
    k_first_tap_db : float
        Ricean K of the first tap for d < d_BP (dB).
    shadowing_db : (float, float)
        Log-normal shadowing before / after d_BP (dB).
    """

    name: str
    environment: str
    delays_ns: np.ndarray
    powers_db: np.ndarray
    nominal_rms_ns: float
    breakpoint_m: float
    k_first_tap_db: float
    shadowing_db: tuple

    @property
    def rms_delay_spread_ns(self) -> float:
        """RMS delay spread of the tap powers (ns): the second central moment, as for a ray sum."""
        p = 10 ** (self.powers_db / 10)
        mean = np.sum(p * self.delays_ns) / p.sum()
        return float(np.sqrt(np.sum(p * self.delays_ns**2) / p.sum() - mean**2))

    @property
    def k_factor_db(self) -> float:
        """LOS power over all other power of the whole profile for d < d_BP (dB).

        The first tap's power P_1 splits into K/(K+1) P_1 fixed and P_1/(K+1) Rayleigh.
        """
        p = 10 ** (self.powers_db / 10)
        k = 10 ** (self.k_first_tap_db / 10)
        los = k / (k + 1) * p[0]
        return float(10 * np.log10(los / (p.sum() - los)))

    @property
    def slope_range(self) -> tuple[float, float]:
        """Path-loss exponents of the model: 2 before d_BP, 3.5 after."""
        return (2.0, 3.5)

    def path_loss_db(self, distance_m, frequency_hz: float) -> np.ndarray:
        """TGn path loss (dB): free space up to d_BP, then 35 log10(d / d_BP) more."""
        d = np.asarray(distance_m, dtype=float)
        fspl = 20 * np.log10(4 * np.pi * frequency_hz / SPEED_OF_LIGHT)
        near = fspl + 20 * np.log10(np.minimum(d, self.breakpoint_m))
        return near + 35 * np.log10(np.maximum(d / self.breakpoint_m, 1.0))


def _model(name, env, delays, powers, rms, d_bp, k, shadow):
    return TgnModel(name, env, np.asarray(delays, float), np.asarray(powers, float), rms, d_bp, k,
                    shadow)


#: The five multipath TGn models (tap data of IEEE 802.11-03/940r4).
TGN_MODELS: dict[str, TgnModel] = {
    "B": _model("B", "residential", np.arange(0, 90, 10),
                [0, -5.4287, -2.5162, -5.8905, -9.1603, -12.5105, -15.6126, -18.7147, -21.8168],
                15.0, 5.0, 0.0, (3.0, 4.0)),
    "C": _model("C", "residential or small office",
                [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 110, 140, 170, 200],
                [0, -2.1715, -4.3429, -6.5144, -8.6859, -10.8574, -4.3899, -6.5614, -8.7329,
                 -10.9043, -13.7147, -15.8862, -18.0577, -20.2291], 30.0, 5.0, 0.0, (3.0, 5.0)),
    "D": _model("D", "typical office",
                [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 110, 140, 170, 200, 240, 290, 340, 390],
                [0, -0.9, -1.7, -2.6, -3.5, -4.3, -5.2, -6.1, -6.9, -7.8, -4.7, -7.3, -9.9, -12.5,
                 -13.7, -18.0, -22.4, -26.7], 50.0, 10.0, 3.0, (3.0, 5.0)),
    "E": _model("E", "large office",
                [0, 10, 20, 30, 50, 80, 110, 140, 180, 230, 280, 330, 380, 430, 490, 560, 640, 730],
                [-2.5, -3.0, -3.5, -3.9, 0, -1.3, -2.6, -3.9, -3.4, -5.6, -7.7, -9.9, -12.1, -14.3,
                 -15.4, -18.4, -20.7, -24.6], 100.0, 20.0, 6.0, (3.0, 6.0)),
    "F": _model("F", "large space (indoor and outdoor)",
                [0, 10, 20, 30, 50, 80, 110, 140, 180, 230, 280, 330, 400, 490, 600, 730, 880, 1050],
                [-3.3, -3.6, -3.9, -4.2, 0, -0.9, -1.7, -2.6, -1.5, -3.0, -4.4, -5.9, -5.3, -7.9,
                 -9.4, -13.2, -16.3, -21.2], 150.0, 30.0, 6.0, (3.0, 6.0)),
}


def tgn_model(name: str) -> TgnModel:
    """Look up a TGn model by letter (``"B"`` ... ``"F"``)."""
    if name not in TGN_MODELS:
        raise ParameterError("tgn_class", f"one of {sorted(TGN_MODELS)}", name)
    return TGN_MODELS[name]
