"""wiloc_core: the library behind the wiloc book.

Data flows one way through the sub-packages::

    sim (scene -> sensor) -> data (datasets) -> methods/models -> metrics -> results -> report

Heavy libraries (torch, matplotlib, scipy, pandas) are imported lazily inside the
modules that need them, so ``import wiloc_core`` stays fast.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
