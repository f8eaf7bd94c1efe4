"""The optimisation settings every chapter's training shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from wiloc_core.errors import ParameterError

__all__ = ["TrainSettings"]


@dataclass(frozen=True)
class TrainSettings:
    """How :func:`~wiloc_core.training.fit` trains a network (Adam, mini-batches).

    Parameters
    ----------
    epochs : int >= 1
        Cap on passes over the training set: the paper's epoch count. Early stopping
        may end training sooner, never later (except to reach ``min_steps``).
    lr : float > 0
        Adam learning rate.
    batch_size : int >= 1
        Mini-batch size (samples). A trailing batch of one sample is merged into the
        previous one, because batch normalisation needs two.
    weight_decay : float >= 0
        Adam's L2 penalty.
    patience : int >= 1 or None
        Epochs without a validation improvement before training stops; the weights of
        the best epoch are then restored. None: train to the cap, still restoring the
        best epoch when there is a validation set.
    val_fraction : float in [0, 1)
        Share of the training samples held out for validation when ``fit`` is given no
        validation set (0: no validation, no early stopping).
    min_delta : float >= 0
        A validation loss counts as an improvement only when it is below the best so
        far by more than this (loss units).
    min_steps : int >= 0
        Lower bound on gradient steps: the epoch cap is raised to reach it, and early
        stopping waits for it, so that tiny training sets still get trained.
    device : str
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    progress : bool
        Allow an epoch progress bar. It is shown only on a terminal or in a Jupyter
        kernel, and never when the environment variable ``CI`` or ``WILOC_BATCH`` is set.
    """

    epochs: int = 30
    lr: float = 1e-3
    batch_size: int = 32
    weight_decay: float = 0.0
    patience: int | None = 10
    val_fraction: float = 0.1
    min_delta: float = 0.0
    min_steps: int = 0
    device: str = "auto"
    progress: bool = True

    def __post_init__(self):
        if int(self.epochs) < 1:
            raise ParameterError("epochs", "an integer >= 1", self.epochs)
        if int(self.batch_size) < 1:
            raise ParameterError("batch_size", "an integer >= 1", self.batch_size)
        if not self.lr > 0:
            raise ParameterError("lr", "a learning rate > 0", self.lr)
        if self.weight_decay < 0:
            raise ParameterError("weight_decay", "a value >= 0", self.weight_decay)
        if self.patience is not None and int(self.patience) < 1:
            raise ParameterError("patience", "an integer >= 1 or None", self.patience)
        if not 0 <= self.val_fraction < 1:
            raise ParameterError("val_fraction", "a share in [0, 1)", self.val_fraction)
        if self.min_delta < 0:
            raise ParameterError("min_delta", "a value >= 0", self.min_delta)
        if int(self.min_steps) < 0:
            raise ParameterError("min_steps", "an integer >= 0", self.min_steps)

    def to_dict(self) -> dict:
        """The settings as a JSON-ready dictionary (for provenance and cache keys)."""
        return asdict(self)
