import io
import pickle
import random
import zipfile

import pytest
import torch

from seattn.model.checkpoints import CheckpointError, load_model, read_checkpoint, save_checkpoint
from seattn.model.cnn import SECNN

CLASSES = [f"c{i}" for i in range(10)]


def _save(path, ratio=16, **overrides):
    model = SECNN(ratio)
    payload = {
        "config": {"reduction_ratio": ratio, "classes": CLASSES},
        "epoch": 1,
        "model_state": model.state_dict(),
        **overrides,
    }
    save_checkpoint(path, payload)
    return model


def test_round_trip_gives_the_same_model_in_eval_mode(tmp_path):
    path = tmp_path / "c.pt"
    original = _save(path).eval()
    model, config = load_model(path, expected_ratio=16)
    assert not model.training
    assert config["reduction_ratio"] == 16
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(model(x), original(x))
    assert not any(p.requires_grad for p in model.parameters())


def test_truncated_file_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "c.pt"
    _save(path)
    data = path.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.pt: the file is cut short"):
        read_checkpoint(cut)


def zip_without_pytorch_inside() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not weights")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "diagnosis"),
    [
        (b"", "the file is empty"),
        (b"hello, not a checkpoint\n101 lines of notes\n", "a text file, not a PyTorch checkpoint"),
        (bytes(random.Random(0).randrange(256) for _ in range(4096)), "bytes are not a format"),
        (zip_without_pytorch_inside(), "a zip archive, but not a PyTorch checkpoint"),
    ],
    ids=["empty", "text", "random-bytes", "other-zip"],
)
def test_each_unreadable_file_is_told_what_it_is_in_plain_words(tmp_path, content, diagnosis):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=diagnosis) as refused:
        read_checkpoint(path)
    message = str(refused.value)
    # true: random bytes hold no Python objects; free of torch's internals
    for internal in ("pickled", "Python objects", "PytorchStreamReader", "miniz", "101)"):
        assert internal not in message


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        read_checkpoint(tmp_path / "absent.pt")
    with pytest.raises(CheckpointError, match="folder"):
        read_checkpoint(tmp_path)


class Payload:
    """Unpickling this would run os.system; weights_only must refuse it before that."""

    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_file_needing_arbitrary_pickled_objects_is_refused_and_nothing_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"format": "seattn.checkpoint", "evil": Payload()}, path)
    with pytest.raises(CheckpointError, match="evil.pt: refused: it holds Python objects"):
        read_checkpoint(path)
    assert not (tmp_path / "pwned").exists()
    plain_pickle = tmp_path / "plain.pkl"
    plain_pickle.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(CheckpointError):
        read_checkpoint(plain_pickle)
    assert not (tmp_path / "pwned").exists()


def test_a_plain_state_dict_is_not_one_of_ours(tmp_path):
    path = tmp_path / "sd.pt"
    torch.save(SECNN(16).state_dict(), path)
    with pytest.raises(CheckpointError, match="not a seattn checkpoint"):
        read_checkpoint(path)


def test_weights_of_another_ratio_are_refused(tmp_path):
    path = tmp_path / "c.pt"
    model = SECNN(8)
    save_checkpoint(
        path,
        {"config": {"reduction_ratio": 16, "classes": CLASSES}, "model_state": model.state_dict()},
    )
    with pytest.raises(CheckpointError, match="do not fit the r=16 architecture"):
        load_model(path)


def test_another_architecture_is_refused(tmp_path):
    path = tmp_path / "c.pt"
    state = torch.nn.Linear(4, 2).state_dict()
    save_checkpoint(
        path, {"config": {"reduction_ratio": 16, "classes": CLASSES}, "model_state": state}
    )
    with pytest.raises(CheckpointError, match="do not fit"):
        load_model(path)


def test_expected_ratio_mismatch_is_refused(tmp_path):
    path = tmp_path / "c.pt"
    _save(path, ratio=None)
    with pytest.raises(CheckpointError, match="no SE model, but r=16 was asked for"):
        load_model(path, expected_ratio=16)


def test_float16_weights_load_as_float32(tmp_path):
    path = tmp_path / "half.pt"
    model = SECNN(16)
    half = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    save_checkpoint(
        path, {"config": {"reduction_ratio": 16, "classes": CLASSES}, "model_state": half}
    )
    loaded, _ = load_model(path)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
