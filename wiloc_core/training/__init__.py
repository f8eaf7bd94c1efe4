"""One training layer for every chapter: settings, fit with early stopping, predict::

    from wiloc_core.training import TrainSettings, fit, predict, seeded_init
    net = seeded_init(MyNet, seed)                       # weights from the seed's stream
    result = fit(net, X, y, TrainSettings(epochs=50), seed=seed)
    result.best_epoch, result.device                     # for the page and provenance
    y_hat = predict(net, X_test)

``device="auto"`` trains on CUDA when the machine has it; every random draw comes from
the task seed (no global RNG state is touched), so a task gives the same network in
any process and any order.
"""

from wiloc_core.training.checkpoint import loop_checkpoint, resumed_seconds, task_scope
from wiloc_core.training.device import describe_device, resolve_device
from wiloc_core.training.loop import FitResult, batch_indices, fit, predict
from wiloc_core.training.progress import progress_bar, progress_enabled
from wiloc_core.training.seeding import (
    derive_seed,
    isolated_torch_rng,
    seeded_init,
    torch_generator,
)
from wiloc_core.training.settings import TrainSettings
from wiloc_core.training.stopping import EarlyStopping

__all__ = [
    "TrainSettings",
    "EarlyStopping",
    "FitResult",
    "fit",
    "predict",
    "batch_indices",
    "resolve_device",
    "describe_device",
    "derive_seed",
    "torch_generator",
    "isolated_torch_rng",
    "seeded_init",
    "progress_enabled",
    "progress_bar",
    "loop_checkpoint",
    "resumed_seconds",
    "task_scope",
]
