"""Early stopping: the one rule every training loop of the package follows.

After each epoch the loop reports its validation loss. The states of the epoch with the
lowest loss are kept; a loss counts as lower only when it beats the best so far by more
than ``min_delta``; ``patience`` epochs in a row without such an improvement end the
training. At the end the loop takes back the kept states. The rule's state goes into a
checkpoint through :meth:`EarlyStopping.record` and comes back through
:meth:`EarlyStopping.load`, so a resumed loop stops where an uninterrupted one would.
"""

from __future__ import annotations

import copy
import math

from torch import nn

from wiloc_core.errors import ParameterError

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """Keep the best epoch's states and say when patience has run out.

    Parameters
    ----------
    modules : dict of str -> torch.nn.Module
        The modules whose states are kept (a network, and any critic trained with it).
    patience : int >= 1 or None
        Epochs without improvement before :meth:`update` says stop; None: never.
    min_delta : float >= 0
        Improvement needed for a loss to count as lower (loss units).
    """

    def __init__(self, modules: dict[str, nn.Module], patience: int | None,
                 min_delta: float = 0.0):
        if patience is not None and int(patience) < 1:
            raise ParameterError("patience", "an integer >= 1 or None", patience)
        if not min_delta >= 0:
            raise ParameterError("min_delta", "a value >= 0", min_delta)
        self.modules = modules
        self.patience = None if patience is None else int(patience)
        self.min_delta = float(min_delta)
        self.best, self.best_epoch, self.stale, self.state = math.inf, 0, 0, None

    @classmethod
    def of(cls, settings, modules: dict[str, nn.Module]) -> EarlyStopping:
        """The rule with a :class:`~wiloc_core.training.TrainSettings`' patience and
        ``min_delta``."""
        return cls(modules, settings.patience, settings.min_delta)

    @property
    def improved(self) -> bool:
        """True when some epoch had a validation loss (its states are kept)."""
        return self.state is not None

    def update(self, epoch: int, val: float | None) -> bool:
        """Record epoch ``epoch`` (1-based) with validation loss ``val`` (None: the loop
        has no validation set, and nothing is recorded). Returns True when patience has
        run out. A NaN loss counts as no improvement."""
        if val is None:
            return False
        if val < self.best - self.min_delta:
            self.best, self.best_epoch, self.stale = float(val), int(epoch), 0
            self.state = {k: copy.deepcopy(m.state_dict()) for k, m in self.modules.items()}
        else:
            self.stale += 1
        return self.patience is not None and self.stale >= self.patience

    def record(self) -> dict:
        """The rule's state, for a checkpoint (tensors, numbers and None only)."""
        return {"best": self.best, "best_epoch": self.best_epoch, "stale": self.stale,
                "state": self.state}

    def load(self, record: dict) -> None:
        """Take back a :meth:`record`."""
        self.best, self.best_epoch = float(record["best"]), int(record["best_epoch"])
        self.stale, self.state = int(record["stale"]), record["state"]

    def restore(self, epochs_run: int) -> int:
        """Load the kept states into the modules; return the best epoch, or
        ``epochs_run`` (the last epoch) when no epoch was validated."""
        if self.state is None:
            return int(epochs_run)
        for k, module in self.modules.items():
            module.load_state_dict(self.state[k])
        return self.best_epoch
