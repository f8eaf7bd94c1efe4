"""Safe checkpoints: weights-only loading and refusal of foreign architectures."""

import pytest

torch = pytest.importorskip("torch")

from wiloc_core.models.checkpoint import (  # noqa: E402
    CheckpointError,
    load_checkpoint,
    load_model,
    read_checkpoint,
    save_checkpoint,
    save_model,
)


class Tiny(torch.nn.Module):
    architecture = "tiny-mlp"

    def __init__(self, width=3):
        super().__init__()
        self.width = width
        self.lin = torch.nn.Linear(width, 2)

    @property
    def config(self):
        return {"width": self.width}


def _tiny(width=3, seed=0):
    torch.manual_seed(seed)
    return Tiny(width)


def test_round_trip_restores_weights_and_metadata(tmp_path):
    a, b = _tiny(seed=0), _tiny(seed=1)
    path = save_model(tmp_path / "m.pt", a, extra={"epochs": 7})
    assert not torch.equal(a.lin.weight, b.lin.weight)
    ckpt = load_model(path, b)
    assert torch.equal(a.lin.weight, b.lin.weight)
    assert ckpt.architecture == "tiny-mlp" and ckpt.config == {"width": 3}
    assert ckpt.extra == {"epochs": 7}


def test_other_architecture_is_refused_and_model_untouched(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", _tiny(seed=0), architecture="ctf-cnn",
                           config={"width": 3})
    target = _tiny(seed=1)
    before = target.lin.weight.clone()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, target, architecture="tiny-mlp")
    message = str(err.value)
    assert "m.pt" in message and "architecture" in message and "ctf-cnn" in message
    assert torch.equal(target.lin.weight, before)


def test_config_mismatch_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", _tiny(), architecture="tiny-mlp",
                           config={"width": 3, "dropout": 0.1})
    with pytest.raises(CheckpointError, match="dropout"):
        load_checkpoint(path, _tiny(), architecture="tiny-mlp", config={"width": 3, "dropout": 0.2})


def test_shape_mismatch_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", _tiny(width=3), architecture="tiny-mlp", config={})
    with pytest.raises(CheckpointError, match="shape"):
        load_checkpoint(path, _tiny(width=4), architecture="tiny-mlp")


def test_pickled_objects_and_bare_state_dicts_are_refused(tmp_path):
    pickled = tmp_path / "pickled.pt"
    torch.save({"format": "wiloc-checkpoint/1", "obj": Tiny()}, pickled)  # needs full unpickling
    with pytest.raises(CheckpointError, match="weights_only"):
        read_checkpoint(pickled)
    bare = tmp_path / "bare.pt"
    torch.save(_tiny().state_dict(), bare)
    with pytest.raises(CheckpointError, match="format"):
        read_checkpoint(bare)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        read_checkpoint("/nonexistent/model.pt")
