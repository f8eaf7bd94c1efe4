"""Radio-scene simulator: one multipath model behind every simulated dataset.

Data flow::

    scene (Room, Material, Scatterers, Person, Scene)       wiloc_core.sim.scene
      -> paths (LOS, image-method walls, scattering,
                diffuse tail of the room)                   wiloc_core.sim.paths, .diffuse
      -> channel (H(f) of eq. (1), impulse response, ...)   wiloc_core.sim.channel
      -> sensors (VNA, ESP32 CSI, OFDM taps, RTT, RSS)      wiloc_core.sim.sensors.*

Presets for the papers' setups live in :mod:`wiloc_core.sim.presets`; their calibration
against the IEEE 802.11 TGn models in :mod:`wiloc_core.sim.calibration` (reference
values in :mod:`wiloc_core.sim.tgn`), and the three real RTT rooms rebuilt in
:mod:`wiloc_core.sim.rtt_rooms`. Importing this package imports NumPy only.
"""

from wiloc_core.sim.channel import (
    coherence_bandwidth,
    ctf,
    delay_spread,
    frequency_grid,
    impulse_response,
    spatial_correlation,
)
from wiloc_core.sim.diffuse import DiffuseField, reverberation_time, room_diffuse_field
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

#: Version of what the simulator computes; a committed run records the version it used.
SIMULATOR_VERSION = 2
#: Each version after the first: the commit that introduced it and what changed.
SIMULATOR_VERSIONS = {
    2: ("239eda1c5d0390f7f0ab10cfdc8f0313e92c9ad8",
        "diffuse multipath and presets calibrated to the IEEE 802.11 TGn classes"),
}

__all__ = [
    "MATERIALS", "PRESET_NAMES", "DiffuseField", "Material", "PathSet", "Person", "Preset", "Room",
    "Scatterers", "Scene", "coherence_bandwidth", "ctf", "delay_spread", "frequency_grid",
    "impulse_response", "preset", "random_clutter", "reverberation_time", "room_diffuse_field",
    "spatial_correlation", "trace",
]
