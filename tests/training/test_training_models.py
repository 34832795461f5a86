"""The two architectures: baseline follows the published recipe exactly; default stays export-friendly."""

from __future__ import annotations

import keras
import numpy as np

from training.models import build_baseline, build_default, inference_model

BASELINE_RECIPE = [
    ("conv1", "Conv2D", (44, 44, 64)),
    ("pool1", "MaxPooling2D", (20, 20, 64)),
    ("conv2a", "Conv2D", (18, 18, 64)),
    ("conv2b", "Conv2D", (16, 16, 64)),
    ("pool2", "AveragePooling2D", (7, 7, 64)),
    ("conv3a", "Conv2D", (5, 5, 128)),
    ("conv3b", "Conv2D", (3, 3, 128)),
    ("pool3", "AveragePooling2D", (1, 1, 128)),
    ("flatten", "Flatten", (128,)),
    ("fc1", "Dense", (1024,)),
    ("drop1", "Dropout", (1024,)),
    ("fc2", "Dense", (1024,)),
    ("drop2", "Dropout", (1024,)),
    ("probs", "Dense", (7,)),
]


def test_baseline_layers_match_the_recipe() -> None:
    model = build_baseline()
    got = [(layer.name, type(layer).__name__, tuple(layer.output.shape[1:])) for layer in model.layers[1:]]
    assert got == BASELINE_RECIPE
    kernels = {layer.name: layer.kernel_size for layer in model.layers if hasattr(layer, "kernel_size")}
    assert kernels == {"conv1": (5, 5), **{n: (3, 3) for n in ("conv2a", "conv2b", "conv3a", "conv3b")}}
    pools = {layer.name: (layer.pool_size, layer.strides) for layer in model.layers if "pool" in layer.name}
    assert pools == {"pool1": ((5, 5), (2, 2)), "pool2": ((3, 3), (2, 2)), "pool3": ((3, 3), (2, 2))}
    assert all(model.get_layer(n).rate == 0.2 for n in ("drop1", "drop2"))
    assert model.get_layer("conv1").activation.__name__ == "relu"
    assert model.get_layer("probs").activation.__name__ == "softmax"
    assert model.input_shape == (None, 48, 48, 1)


def test_default_has_batch_norm_and_training_only_augmentation() -> None:
    model = build_default(seed=0)
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    aug = model.get_layer("augment")
    kinds = {type(layer).__name__ for layer in aug.layers}
    assert {"RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomErasing"} <= kinds
    x = np.random.default_rng(0).random((4, 48, 48, 1), dtype=np.float32)
    # Augmentation is identity at inference, so dropping it for export changes nothing.
    np.testing.assert_allclose(model(x, training=False), inference_model(model)(x), atol=1e-6)
    assert not np.allclose(aug(x, training=True), x)


def test_softmax_stays_float32_under_mixed_bfloat16() -> None:
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_default(augment=False)
        assert model.get_layer("b2a_conv").compute_dtype == "bfloat16"
        out = model(np.zeros((2, 48, 48, 1), np.float32), training=False)
        assert keras.backend.standardize_dtype(out.dtype) == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_fast_is_default_with_separable_convs_after_the_first_block() -> None:
    from training.models import build_model

    fast, default = build_model("fast", augment=False), build_model("default", augment=False)
    kinds = {layer.name: type(layer).__name__ for layer in fast.layers if layer.name.endswith("_conv")}
    assert kinds["b1a_conv"] == "Conv2D"
    assert {n for n, k in kinds.items() if k == "SeparableConv2D"} == {
        f"b{i}{ab}_conv" for i in (2, 3, 4) for ab in "ab"
    }
    # Same layer names and shapes as default (Grad-CAM reads b4b_relu), a sixth of the parameters.
    assert [(layer.name, layer.output.shape) for layer in fast.layers] == [
        (layer.name, layer.output.shape) for layer in default.layers
    ]
    assert fast.count_params() < default.count_params() / 5


def test_narrow_is_default_at_three_quarters_of_the_channels() -> None:
    from training.models import build_model

    narrow, default = build_model("narrow", augment=False), build_model("default", augment=False)
    names = [layer.name for layer in narrow.layers]
    assert names == [layer.name for layer in default.layers]  # Grad-CAM and warm starts find their layers
    for name in ("b1a_conv", "b2b_conv", "b3b_conv", "b4b_conv"):
        assert type(narrow.get_layer(name)).__name__ == "Conv2D"
        assert narrow.get_layer(name).filters * 4 == default.get_layer(name).filters * 3
    assert 0.5 < narrow.count_params() / default.count_params() < 0.6
