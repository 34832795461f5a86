"""The emotion CNNs: ``baseline`` (the published recipe, kept exactly), ``default`` (the shipped design) and
its variants ``wide``, ``narrow`` and ``fast``.

Both take ``(N, 48, 48, 1)`` float32 faces in [0, 1] (see :func:`monitor.preprocess.preprocess_faces`) and
return ``(N, n_classes)`` float32 probabilities. Augmentation lives in the model as Keras preprocessing
layers, which are identity at inference, so the exported model is just the classifier.
"""

from __future__ import annotations

import keras
from keras import layers

from monitor.preprocess import FACE_SIZE
from training.recipes import ARCHS

__all__ = ["ARCHS", "build_model", "float32_clone", "inference_model"]
INPUT_SHAPE = (FACE_SIZE, FACE_SIZE, 1)

# The shipped design, each knob named once.
DEFAULT_WIDTHS = (32, 64, 128, 256)
"""Channels of the four VGG-style blocks (two 3x3 convs + BN + ReLU each, then 2x2 max-pool)."""
DEFAULT_BLOCK1_CONVS = 1
"""Convs in the first (48x48) block: a second one there costs as much as a whole deeper block."""
DEFAULT_DENSE = 256
WIDE_WIDTHS = (48, 96, 192, 384)
"""``wide``: the ``default`` design at 1.5x the channels (about 2.2x the compute)."""
FAST_WIDTHS = DEFAULT_WIDTHS
"""``fast``: the ``default`` layout with depthwise-separable convs after the first block (about a fifth of
the CPU time per face under LiteRT on AVX2 cores without VNNI, where ``default`` misses the 1 ms budget)."""
NARROW_WIDTHS = (24, 48, 96, 192)
"""``narrow``: the ``default`` design at 3/4 of the channels, full 3x3 convs throughout. On an AVX2-only
2-core EPYC (``benchmarks/architectures.py``) int8 takes 0.81 ms per face, float32 0.74; ``default`` 1.31
and 1.41."""
DEFAULT_DROPOUT = 0.4
AUG_ROTATION = 15 / 360  # fraction of a full turn: ±15°
AUG_SHIFT = 0.1
AUG_ZOOM = 0.1
AUG_ERASE = (0.02, 0.15)  # random erasing, fraction of the area of one patch


def augmentation(seed: int | None = None) -> keras.Sequential:
    """Training-only augmentation: flip, small rotation, shift & zoom, random erasing."""
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomRotation(AUG_ROTATION, fill_mode="reflect", seed=seed),
            layers.RandomTranslation(AUG_SHIFT, AUG_SHIFT, fill_mode="reflect", seed=seed),
            layers.RandomZoom(AUG_ZOOM, AUG_ZOOM, fill_mode="reflect", seed=seed),
            layers.RandomErasing(factor=0.5, scale=AUG_ERASE, fill_value=0.5, value_range=(0, 1), seed=seed),
        ],
        name="augment",
    )


@keras.saving.register_keras_serializable(package="classroom_monitor")
class HorizontalFlip(layers.Layer):
    """Mirror faces left-right, always (not a random augmentation): the second view of flip averaging."""

    def call(self, inputs: keras.KerasTensor) -> keras.KerasTensor:
        return keras.ops.flip(inputs, axis=2)


def build_baseline(n_classes: int = 7) -> keras.Model:
    """The classic FER2013 recipe, layer for layer (no augmentation, no batch norm)."""
    inputs = keras.Input(INPUT_SHAPE, name="face")
    x = layers.Conv2D(64, 5, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(5, strides=2, name="pool1")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2a")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2b")(x)
    x = layers.AveragePooling2D(3, strides=2, name="pool2")(x)
    x = layers.Conv2D(128, 3, activation="relu", name="conv3a")(x)
    x = layers.Conv2D(128, 3, activation="relu", name="conv3b")(x)
    x = layers.AveragePooling2D(3, strides=2, name="pool3")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(1024, activation="relu", name="fc1")(x)
    x = layers.Dropout(0.2, name="drop1")(x)
    x = layers.Dense(1024, activation="relu", name="fc2")(x)
    x = layers.Dropout(0.2, name="drop2")(x)
    # float32 output even under a mixed-precision policy: softmax in bfloat16 loses too many digits.
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probs")(x)
    return keras.Model(inputs, outputs, name="baseline")


def _conv_bn_relu(x: keras.KerasTensor, filters: int, name: str) -> keras.KerasTensor:
    # No bias: batch norm's shift replaces it. Weight decay comes from AdamW, not from L2 terms.
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _separable_bn_relu(x: keras.KerasTensor, filters: int, name: str) -> keras.KerasTensor:
    # Depthwise 3x3 then pointwise 1x1: about 1/8 of a full 3x3 conv's multiply-adds at these widths.
    x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_default(
    n_classes: int = 7,
    *,
    widths: tuple[int, ...] = DEFAULT_WIDTHS,
    block1_convs: int = DEFAULT_BLOCK1_CONVS,
    dense: int = DEFAULT_DENSE,
    dropout: float = DEFAULT_DROPOUT,
    augment: bool = True,
    seed: int | None = None,
    name: str = "default",
    separable: bool = False,
) -> keras.Model:
    """A compact VGG-style net with batch norm and global average pooling, fast enough for LiteRT on CPU.

    ``separable`` makes every conv after the first block depthwise-separable (the ``fast`` network)."""
    inputs = keras.Input(INPUT_SHAPE, name="face")
    x = augmentation(seed)(inputs) if augment else inputs
    for i, width in enumerate(widths, start=1):
        conv = _separable_bn_relu if separable and i > 1 else _conv_bn_relu
        x = conv(x, width, f"b{i}a")
        if i > 1 or block1_convs > 1:
            x = conv(x, width, f"b{i}b")
        x = layers.MaxPooling2D(2, name=f"b{i}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="drop1")(x)
    x = layers.Dense(dense, use_bias=False, name="fc")(x)
    x = layers.BatchNormalization(name="fc_bn")(x)
    x = layers.ReLU(name="fc_relu")(x)
    x = layers.Dropout(dropout, name="drop2")(x)
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probs")(x)
    return keras.Model(inputs, outputs, name=name)


def build_model(
    arch: str, n_classes: int = 7, *, seed: int | None = None, augment: bool = True
) -> keras.Model:
    """The network ``arch`` (one of :data:`ARCHS`); ``augment=False`` leaves out the training-only block."""
    if arch == "baseline":
        return build_baseline(n_classes)
    if arch == "default":
        return build_default(n_classes, seed=seed, augment=augment)
    if arch == "wide":
        return build_default(n_classes, widths=WIDE_WIDTHS, seed=seed, augment=augment, name="wide")
    if arch == "narrow":
        return build_default(n_classes, widths=NARROW_WIDTHS, seed=seed, augment=augment, name="narrow")
    if arch == "fast":
        return build_default(
            n_classes, widths=FAST_WIDTHS, seed=seed, augment=augment, name="fast", separable=True
        )
    raise ValueError(f"unknown arch {arch!r}; choose one of {', '.join(ARCHS)}")


def inference_model(model: keras.Model) -> keras.Model:
    """The classifier without its training-only augmentation block (same weights, float32 in and out)."""
    names = [layer.name for layer in model.layers]
    if "augment" not in names:
        return model
    # Rebuild the graph from the layer after "augment"; layers are shared, so weights are shared too.
    inputs = keras.Input(INPUT_SHAPE, name="face")
    x = inputs
    for layer in model.layers[names.index("augment") + 1 :]:
        x = layer(x)
    return keras.Model(inputs, x, name=model.name)


def float32_clone(model: keras.Model, arch: str, n_classes: int) -> keras.Model:
    """A float32-policy copy of ``model`` of network ``arch`` without augmentation, with its weights."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        clone = build_model(arch, n_classes, augment=False)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    trained = {layer.name: layer for layer in model.layers}
    for layer in clone.layers:
        if layer.weights:
            layer.set_weights(trained[layer.name].get_weights())
    return clone
