"""The training recipes and their pieces: mixing, weight averaging, FER+ soft targets, resumable runs."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tests.training.conftest import pixels, write_fer_csv
from training.data import load_dataset
from training.mixing import TrainingBatches, cutmix, mix_batch, mixup
from training.recipes import RECIPES, get_recipe
from training.soft_targets import with_ferplus_targets

pytestmark = [
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Statistics for quantized inputs were expected:UserWarning"),
    pytest.mark.filterwarnings("ignore:Your `PyDataset` class should call:UserWarning"),
]
N_TRAIN, N_VAL = 96, 48


def _faces(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random faces, their one-hot targets and class indices (learnable: brightness encodes the class)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 7, n)
    x = (rng.random((n, 48, 48, 1)) * 0.3 + labels[:, None, None, None] / 10).astype(np.float32)
    return x, np.eye(7, dtype=np.float32)[labels], labels


def _fit(
    recipe_name: str,
    work_dir: Path,
    epochs: int,
    seed: int = 3,
    resume: bool | None = None,
    **overrides: object,
):
    import keras

    from training.fit import fit, set_seed
    from training.models import build_model

    keras.mixed_precision.set_global_policy("float32")
    set_seed(3)
    recipe = get_recipe(recipe_name).with_overrides(epochs=epochs, batch_size=32, **overrides)
    x, y, _ = _faces(N_TRAIN, 0)
    xv, _, yv = _faces(N_VAL, 1)
    model = build_model(recipe.arch, 7, seed=3)
    return fit(model, recipe, x, y, xv, yv, work_dir=work_dir, seed=seed, resume=resume, verbose=0)


# --- mixing -------------------------------------------------------------------------------------------


def test_mixup_and_cutmix_targets_are_distributions() -> None:
    x, y, _ = _faces(32, 0)
    rng = np.random.default_rng(0)
    for mix in (mixup, cutmix):
        mx, my = mix(x, y, rng, 1.0)
        assert mx.shape == x.shape and my.shape == y.shape
        np.testing.assert_allclose(my.sum(axis=1), 1.0, atol=1e-6)
        assert (my.max(axis=1) < 1.0).any(), f"{mix.__name__} mixed nothing"


def test_cutmix_target_weights_match_the_pasted_area() -> None:
    x = np.zeros((2, 48, 48, 1), np.float32)
    x[1] = 1.0
    y = np.eye(7, dtype=np.float32)[[0, 1]]
    mx, my = cutmix(x, y, np.random.default_rng(5), 1.0)
    for i in range(2):
        other = 1 - i
        pasted = float(np.abs(mx[i] - x[i]).mean())  # share of pixels copied from the other face
        if pasted:
            assert my[i, other] == pytest.approx(pasted, abs=1e-6)


def test_unmixed_batches_pass_through_and_batches_depend_only_on_seed_and_epoch() -> None:
    x, y, _ = _faces(100, 0)
    same_x, same_y = mix_batch(
        x, y, np.random.default_rng(0), mixup_alpha=0.2, cutmix_alpha=1.0, probability=0
    )
    assert same_x is x and same_y is y
    a = TrainingBatches(x, y, 32, seed=1, mixup_alpha=0.2, cutmix_alpha=1.0, mix_probability=0.5)
    b = TrainingBatches(x, y, 32, seed=1, mixup_alpha=0.2, cutmix_alpha=1.0, mix_probability=0.5)
    a.set_epoch(0), a[0], a.set_epoch(3)  # a has seen other epochs before, b has not
    b.set_epoch(3)
    assert len(a) == 4 and a[3][0].shape == (4, 48, 48, 1)
    for i in range(len(a)):
        np.testing.assert_array_equal(a[i][0], b[i][0])
        np.testing.assert_array_equal(a[i][1], b[i][1])
        np.testing.assert_allclose(a[i][1].sum(axis=1), 1.0, atol=1e-6)


# --- FER+ soft targets ----------------------------------------------------------------------------------


def _write_ferplus(path: Path, usages: list[str], votes: list[list[int]]) -> Path:
    """A FER+ vote file (neutral happiness surprise sadness anger disgust fear contempt unknown NF)."""
    with gzip.open(path, "wt", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "Usage",
                "Image name",
                "neutral",
                "happiness",
                "surprise",
                "sadness",
                "anger",
                "disgust",
                "fear",
                "contempt",
                "unknown",
                "NF",
            ]
        )
        for i, (u, v) in enumerate(zip(usages, votes, strict=True)):
            w.writerow([u, f"fer{i:07d}.png", *v])
    return path


def test_ferplus_votes_become_soft_targets_that_keep_the_fer2013_label(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    # FER2013 order: angry disgust fear happy sad surprise neutral.
    rows = [
        ("3", pixels(rng), "Training"),
        ("0", pixels(rng), "Training"),
        ("6", pixels(rng), "Training"),
        ("4", pixels(rng), "PublicTest"),
    ]
    fer = write_fer_csv(tmp_path / "fer.csv", rows)
    votes = [
        [0, 8, 2, 0, 0, 0, 0, 0, 0, 0],  # happy 8, surprise 2
        [0, 0, 0, 0, 0, 0, 0, 4, 0, 6],  # contempt only: no votes on the 7 classes
        [5, 0, 0, 5, 0, 0, 0, 0, 0, 0],  # neutral 5, sad 5
        [0, 0, 0, 0, 10, 0, 0, 0, 0, 0],
    ]  # PublicTest: anger (FER2013 says sad)
    ferplus = _write_ferplus(tmp_path / "ferplus.csv.gz", [r[2] for r in rows], votes)
    ds = with_ferplus_targets(load_dataset(fer, progress=False, cache=False), ferplus, 0.3)
    assert ds.soft and ds.labels.shape == (4, 7)
    np.testing.assert_allclose(ds.labels.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(ds.hard_labels, [3, 0, 6, 4])  # the FER2013 labels, PublicTest too
    np.testing.assert_allclose(ds.labels[0], [0, 0, 0, 0.7 + 0.3 * 0.8, 0, 0.3 * 0.2, 0], atol=1e-6)
    np.testing.assert_array_equal(ds.labels[1], np.eye(7)[0])  # no usable votes: one-hot
    np.testing.assert_allclose(ds.labels[2], [0, 0, 0, 0, 0.15, 0, 0.85], atol=1e-6)
    np.testing.assert_array_equal(ds.labels[3], np.eye(7)[4])  # PublicTest keeps its label
    with pytest.raises(ValueError, match="0.5"):
        with_ferplus_targets(load_dataset(fer, progress=False, cache=False), ferplus, 0.5)


# --- weight averaging, recipes, resume ----------------------------------------------------------------------


def test_recipes_name_each_setting_once_and_default_is_the_shipped_one() -> None:
    default = get_recipe("default")
    assert (default.optimizer, default.peak_lr, default.epochs, default.label_smoothing) == (
        "adamw",
        2e-3,
        45,
        0.1,
    )
    assert default.ema_decay == default.mixup_alpha == default.ferplus_weight == 0
    strong = get_recipe("strong")
    assert strong.optimizer == "sgd" and strong.ema_decay > 0 and strong.mix_probability > 0
    assert 0 < strong.ferplus_weight < 0.5
    with pytest.raises(ValueError, match="choose one of"):
        get_recipe("nope")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_each_recipe_trains_one_epoch(name: str, tmp_path: Path) -> None:
    result = _fit(name, tmp_path / name, epochs=1)
    state = json.loads((tmp_path / name / "state.json").read_text())
    assert result.epochs_run == 1 and state["epoch"] == 1 and state["recipe"]["name"] == name
    for f in ("last.keras", "best.keras", "history.csv", "train.log"):
        assert (tmp_path / name / f).is_file(), f
    assert (tmp_path / name / "ema.npz").is_file() == (get_recipe(name).ema_decay > 0)
    assert 0 <= result.history["val_accuracy"][0] <= 1
    assert "epoch 1/1" in (tmp_path / name / "train.log").read_text()


@pytest.mark.slow
def test_the_exported_weights_are_the_moving_average(tmp_path: Path) -> None:
    import keras

    _fit("strong", tmp_path, epochs=1, ema_decay=0.9)
    with np.load(tmp_path / "ema.npz") as z:
        average = [z[f"w{i}"] for i in range(len(z.files) - 1)]
    floats = lambda m: [v.numpy() for v in m.weights if "float" in str(v.dtype)]  # noqa: E731
    raw = floats(keras.models.load_model(tmp_path / "last.keras"))
    best = floats(keras.models.load_model(tmp_path / "best.keras"))
    assert any(not np.allclose(a, r) for a, r in zip(average, raw, strict=True)), "average == raw weights"
    for a, b in zip(average, best, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    history = json.loads((tmp_path / "state.json").read_text())["history"][0]
    assert history["val_accuracy"] != history["raw_val_accuracy"] or history["val_loss"] > 0


@pytest.mark.slow
def test_an_interrupted_run_resumes_where_it_stopped(tmp_path: Path) -> None:
    from training.fit import RunMismatchError

    # A schedule that does not depend on the epoch count, so 1 + 1 epochs equal 2 epochs.
    straight = _fit("sgd-plateau", tmp_path / "straight", epochs=2)
    _fit("sgd-plateau", tmp_path / "stopped", epochs=1)
    first = (tmp_path / "stopped" / "history.csv").read_text().splitlines()
    resumed = _fit("sgd-plateau", tmp_path / "stopped", epochs=2)
    assert resumed.epochs_run == 2
    assert (tmp_path / "stopped" / "history.csv").read_text().splitlines()[:2] == first
    assert "resuming" in (tmp_path / "stopped" / "train.log").read_text()
    for key in ("loss", "val_accuracy", "raw_val_accuracy"):
        np.testing.assert_allclose(resumed.history[key], straight.history[key], rtol=1e-3, atol=1e-3)
    with pytest.raises(RunMismatchError, match="another --work-dir"):
        _fit("strong", tmp_path / "stopped", epochs=3)
    with pytest.raises(RunMismatchError, match="with seed 3, not 'sgd-plateau' with seed 4"):
        _fit("sgd-plateau", tmp_path / "stopped", epochs=2, seed=4)
    assert _fit("sgd-plateau", tmp_path / "stopped", epochs=2, seed=4, resume=True).seed == 3


@pytest.mark.slow
def test_train_command_runs_the_strong_recipe_with_ferplus_votes(tmp_path: Path) -> None:
    from training.commands import train

    rng = np.random.default_rng(0)
    rows = [(str(i % 7), pixels(rng), "Training" if i < 64 else "PublicTest") for i in range(96)]
    fer = write_fer_csv(tmp_path / "fer.csv", rows)
    votes = [[int(v) for v in rng.integers(0, 4, 10)] for _ in rows]
    ferplus = _write_ferplus(tmp_path / "ferplus.csv.gz", [r[2] for r in rows], votes)
    args = [
        "--data",
        str(fer),
        "--recipe",
        "strong",
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "model"),
        "--work-dir",
        str(tmp_path / "run"),
        "--no-int8",
        "--seed",
        "1",
    ]
    missing = CliRunner().invoke(train, args)
    assert missing.exit_code != 0 and "pass --ferplus" in missing.output
    result = CliRunner().invoke(train, [*args, "--ferplus", str(ferplus)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    metrics = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert metrics["recipe"]["name"] == "strong" and metrics["label_source"] == "fer2013+ferplus-votes"
    assert metrics["n"] == 32 and (tmp_path / "model" / "model.tflite").is_file()
