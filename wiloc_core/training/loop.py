"""``fit`` and ``predict``: mini-batch Adam with a validation split and early stopping.

One epoch is one pass over the training samples in an order drawn from the task's
``"shuffle"`` stream. After each epoch the mean loss on the validation set is measured;
the weights of the epoch with the lowest validation loss are kept, and training stops
when ``patience`` epochs in a row bring no improvement, or at the epoch cap. On the
CPU a fit is bit-for-bit repeatable for the same seed and the same torch thread count.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from wiloc_core.errors import ParameterError
from wiloc_core.training.checkpoint import loop_checkpoint, loop_checkpoint_off
from wiloc_core.training.device import resolve_device
from wiloc_core.training.progress import progress_bar
from wiloc_core.training.seeding import isolated_torch_rng, torch_generator
from wiloc_core.training.settings import TrainSettings
from wiloc_core.training.stopping import EarlyStopping

__all__ = ["FitResult", "fit", "predict", "batch_indices", "as_float_tensor"]


@dataclass
class FitResult:
    """What a :func:`fit` did.

    Attributes
    ----------
    best_epoch : int
        1-based epoch whose weights the model holds (the last epoch without validation).
    best_val_loss : float
        Validation loss of that epoch (NaN without validation).
    epochs_run : int
    steps : int
        Gradient steps taken.
    stopped_early : bool
        True when patience ran out before the epoch cap.
    device : str
        The device the model was trained on (and is left on), for provenance.
    seconds : float
        Wall time of the fit (s).
    history : list of dict
        One ``{"epoch", "train_loss", "val_loss", "steps"}`` per epoch (losses in the
        loss function's units; ``val_loss`` NaN without validation).
    """

    best_epoch: int
    best_val_loss: float
    epochs_run: int
    steps: int
    stopped_early: bool
    device: str
    seconds: float
    history: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready form (for cache values and provenance)."""
        return asdict(self)


def as_float_tensor(a) -> torch.Tensor:
    """A tensor from an array or tensor; floating data become float32, integers stay int64."""
    t = a if isinstance(a, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(a))
    return t.float() if t.is_floating_point() else t.long()


def batch_indices(n: int, batch_size: int,
                  generator: torch.Generator | np.random.Generator) -> list[torch.Tensor]:
    """Index batches of one shuffled pass over ``n`` samples.

    Parameters
    ----------
    n : int >= 1
    batch_size : int >= 1
    generator : torch.Generator or numpy.random.Generator
        Draws the order: ``torch.randperm(n, generator=generator)``, or
        ``generator.permutation(n)`` for a NumPy generator (one draw per pass, so a
        method whose results were drawn that way keeps its numbers).

    Returns
    -------
    list of torch.Tensor, int64
        Batches of ``min(n, batch_size)`` indices; a trailing batch of one sample is
        merged into the one before it.
    """
    if isinstance(generator, np.random.Generator):
        order = torch.from_numpy(generator.permutation(n).astype(np.int64, copy=False))
    else:
        order = torch.randperm(n, generator=generator)
    b = max(1, min(n, int(batch_size)))
    starts = list(range(0, n, b))
    if len(starts) > 1 and n - starts[-1] < 2:
        starts.pop()
    ends = starts[1:] + [n]
    return [order[s:e] for s, e in zip(starts, ends, strict=True)]


def _split(n: int, X_val, val_fraction: float, seed: int):
    """Train and validation indices (None, None when a validation set is given or none)."""
    if X_val is not None or val_fraction <= 0:
        return torch.arange(n), None
    n_val = max(1, int(round(val_fraction * n)))
    if n - n_val < 2:
        raise ParameterError("val_fraction", f"a share leaving >= 2 of {n} samples to train",
                             val_fraction)
    order = torch.randperm(n, generator=torch_generator(seed, "split"))
    return order[n_val:].sort().values, order[:n_val].sort().values


@torch.no_grad()
def _mean_loss(model, loss, X, y, batch_size, device) -> float:
    total, count = 0.0, 0
    for start in range(0, X.shape[0], batch_size):
        xb = X[start:start + batch_size].to(device)
        yb = y[start:start + batch_size].to(device)
        total += float(loss(model(xb), yb)) * xb.shape[0]
        count += xb.shape[0]
    return total / count


def fit(model: nn.Module, X, y, settings: TrainSettings, *, seed: int,
        loss=nn.functional.mse_loss, X_val=None, y_val=None, val_fraction: float | None = None,
        callback=None, grad_clip: float | None = None, clip_parameters=None) -> FitResult:
    """Train ``model`` in place on ``(X, y)`` with Adam and early stopping.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch ``X[idx]`` to predictions that ``loss`` compares with ``y[idx]``.
        Moved to the resolved device and left there, in eval mode, holding the best
        epoch's weights.
    X : array_like or torch.Tensor, shape [n, ...]
        Training inputs (floating data are cast to float32).
    y : array_like or torch.Tensor, shape [n, ...]
        Targets (float32, or int64 class labels).
    settings : TrainSettings
    seed : int >= 0
        The task seed: validation split, batch order and dropout draw from its streams.
        Weight initialisation is the caller's (see :func:`seeded_init`).
    loss : callable
        ``loss(pred, target) -> scalar tensor``, a batch mean (default: MSE).
    X_val, y_val : array_like, optional
        Validation set; when absent, ``val_fraction`` of ``X`` is held out.
    val_fraction : float in [0, 1), optional
        Overrides ``settings.val_fraction`` (0: no validation, train to the cap).
    callback : callable, optional
        ``callback(record)`` after each epoch with that epoch's history record; a
        return value of True stops training.
    grad_clip : float > 0, optional
        Before each step, rescale the gradients of ``clip_parameters`` so that their
        joint L2 norm is at most this (``torch.nn.utils.clip_grad_norm_``); None: no
        clipping.
    clip_parameters : iterable of torch.nn.Parameter, optional
        The parameters ``grad_clip`` acts on (default: all of ``model``'s). LoFi's
        code clips the backbone and leaves the head alone.

    Returns
    -------
    FitResult
    """
    if (X_val is None) != (y_val is None):
        raise ParameterError("X_val/y_val", "both or neither", "only one given")
    if grad_clip is not None and not float(grad_clip) > 0:
        raise ParameterError("grad_clip", "a gradient norm > 0 or None", grad_clip)
    clipped = None if grad_clip is None else list(
        model.parameters() if clip_parameters is None else clip_parameters)
    device = resolve_device(settings.device)
    X, y = as_float_tensor(X), as_float_tensor(y)
    n = int(X.shape[0])
    if n < 2 or y.shape[0] != n:
        raise ParameterError("X, y", "at least 2 samples with one target each",
                             f"shapes {tuple(X.shape)} and {tuple(y.shape)}")
    frac = settings.val_fraction if val_fraction is None else float(val_fraction)
    train_idx, val_idx = _split(n, X_val, frac, seed)
    if X_val is not None:
        Xv, yv = as_float_tensor(X_val), as_float_tensor(y_val)
    elif val_idx is not None:
        Xv, yv = X[val_idx], y[val_idx]
    else:
        Xv = yv = None
    Xt, yt = X[train_idx].to(device), y[train_idx].to(device)
    n_train = int(Xt.shape[0])
    steps_per_epoch = len(batch_indices(n_train, settings.batch_size, torch.Generator()))
    max_epochs = max(int(settings.epochs), math.ceil(settings.min_steps / steps_per_epoch))

    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr,
                           weight_decay=settings.weight_decay)
    order = torch_generator(seed, "shuffle")
    stopper = EarlyStopping.of(settings, {"model": model})
    history, steps, stopped_early = [], 0, False
    # a callback may keep state of its own, which no checkpoint could restore
    ckpt = (loop_checkpoint("fit") if callback is None else loop_checkpoint_off()).bind(
        modules={"model": model}, optimizers={"opt": opt}, generators={"order": order},
        stopper=stopper)
    with isolated_torch_rng(seed, "dropout", device), \
            progress_bar(max_epochs, "epochs", settings.progress, unit="epoch") as bar:
        resumed = ckpt.resume()
        if resumed is not None:
            history, steps = resumed["history"], resumed["steps"]
            stopped_early = resumed["stopped_early"]
            bar.update(len(history))
        for epoch in ckpt.epochs(max_epochs):
            model.train()
            total = 0.0
            for idx in batch_indices(n_train, settings.batch_size, order):
                idx = idx.to(device)
                batch_loss = loss(model(Xt[idx]), yt[idx])
                opt.zero_grad(set_to_none=True)
                batch_loss.backward()
                if clipped is not None:
                    nn.utils.clip_grad_norm_(clipped, float(grad_clip))
                opt.step()
                steps += 1
                total += float(batch_loss.detach()) * idx.shape[0]
            model.eval()
            val = None if Xv is None else _mean_loss(model, loss, Xv, yv, settings.batch_size,
                                                     device)
            record = {"epoch": epoch, "train_loss": total / n_train,
                      "val_loss": math.nan if val is None else val, "steps": steps}
            history.append(record)
            bar.set_postfix(train=f"{record['train_loss']:.4g}", val=f"{record['val_loss']:.4g}")
            bar.update()
            out_of_patience = stopper.update(epoch, val)
            if callback is not None and callback(record) is True:
                break
            stopped_early = out_of_patience and steps >= settings.min_steps and epoch < max_epochs
            ckpt.end_epoch(epoch, {"history": history, "steps": steps,
                                   "stopped_early": stopped_early},
                           finished=stopped_early or epoch == max_epochs)
    best_epoch = stopper.restore(len(history))
    model.eval()
    return FitResult(best_epoch=best_epoch,
                     best_val_loss=stopper.best if stopper.improved else math.nan,
                     epochs_run=len(history), steps=steps, stopped_early=stopped_early,
                     device=str(device), seconds=ckpt.elapsed_s(), history=history)


@torch.no_grad()
def predict(model: nn.Module, X, batch_size: int = 1024, device=None) -> np.ndarray:
    """Outputs of ``model`` on ``X`` in eval mode, batch by batch.

    Parameters
    ----------
    model : torch.nn.Module
    X : array_like or torch.Tensor, shape [n, ...]
    batch_size : int >= 1
    device : str or torch.device, optional
        Where to compute; None: the device of the model's parameters (CPU if it has
        none). The model is moved there.

    Returns
    -------
    numpy.ndarray, shape [n, ...]
        The outputs on the CPU, float32 for a floating model.
    """
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    else:
        device = resolve_device(device)
    X = as_float_tensor(X)
    model.to(device).eval()
    outputs = [model(X[s:s + int(batch_size)].to(device)).cpu()
               for s in range(0, X.shape[0], int(batch_size))]
    if not outputs:
        raise ParameterError("X", "at least one sample", "an empty array")
    return torch.cat(outputs).numpy()
