"""Radio-scene simulator: one multipath model behind every simulated dataset.

Data flow::

    scene (Room, Material, Scatterers, Person, Scene)       wiloc_core.sim.scene
      -> paths (LOS, image-method walls, scattering)        wiloc_core.sim.paths
      -> channel (H(f) of eq. (1), impulse response, ...)   wiloc_core.sim.channel
      -> sensors (VNA, ESP32 CSI, OFDM taps, RTT, RSS)      wiloc_core.sim.sensors.*

Presets for the papers' setups live in :mod:`wiloc_core.sim.presets`. Importing this
package imports NumPy only.
"""

from wiloc_core.sim.channel import (
    coherence_bandwidth,
    ctf,
    delay_spread,
    frequency_grid,
    impulse_response,
    spatial_correlation,
)
from wiloc_core.sim.paths import PathSet, trace
from wiloc_core.sim.presets import PRESET_NAMES, Preset, preset
from wiloc_core.sim.scene import (
    MATERIALS,
    Material,
    Person,
    Room,
    Scatterers,
    Scene,
    random_clutter,
)

__all__ = [
    "MATERIALS", "PRESET_NAMES", "Material", "PathSet", "Person", "Preset", "Room", "Scatterers",
    "Scene", "coherence_bandwidth", "ctf", "delay_spread", "frequency_grid", "impulse_response",
    "preset", "random_clutter", "spatial_correlation", "trace",
]
