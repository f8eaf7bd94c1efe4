"""wiloc_core: the library behind the wiloc book.

Data flows one way through the sub-packages::

    sim (scene -> sensor) -> data (datasets) -> methods/models -> metrics -> results -> report

``phy`` (the IEEE 802.11 OFDM PHY: numerology, constellations, preamble, pilots, transmitter
and receiver steps) is the bottom layer under both the simulator's sensors and the methods;
it imports neither.

Heavy libraries (torch, matplotlib, scipy, pandas) are imported lazily inside the
modules that need them, so ``import wiloc_core`` stays fast.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
