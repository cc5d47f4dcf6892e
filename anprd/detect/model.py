"""The recognizer network: a shared trunk, a cheap dense presence head, a reading head.

The seed's network paid for its 2048-unit dense layer at every window position. Here
only the presence head runs densely over a picture (its window-sized convolution
works on 8 feature channels); the reading head runs only on the few windows the
presence head picked.

The reading head splits reading into "where" and "what". It turns the window into 32
columns of 4 pixels, each with a feature vector of the character under it; for each of
the 7 positions a small dense layer over all columns says which column holds that
position's character (the generator knows, so this is taught directly), and the
position's character is read from the columns it points at. A flattened dense layer
would have to learn every character at every place separately; this learns each glyph
once, wherever it is: after 1,000 training steps it read 41% of the validation plates,
where the flattened head of the weights before it read 0.6% (README, "Model and training").

All views share their layers, so one `.keras` file holds everything:
- `build_model()`: window (64, 128, 1) -> {"presence": (B, 1) logit, "chars": (B, 7, 37)
  logits, "where": (B, 7, 32) logits of each position's column, "columns": (B, 32, 37)
  logits of the character centred in each column (a training aid for the glyphs)}
- `presence_net(model)`: picture (H, W, 1) of any size -> presence logits at a stride of 8
- `reader_net(model)`: window -> {"chars": char logits, "where": column logits}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
from keras import layers, ops

from anprd.detect.weights_check import weights_problem
from anprd.detect.window import N_COLUMNS, WINDOW_H, WINDOW_W
from anprd.reads import N_CLASSES, N_POSITIONS


def _conv(filters: int, kernel, name: str, norm: bool = True) -> list[layers.Layer]:
    """Convolution, batch normalisation (at inference a per-channel affine map), ReLU."""
    if not norm:
        return [layers.Conv2D(filters, kernel, padding="same", activation="relu",
                              kernel_initializer="he_normal", name=name)]
    return [
        layers.Conv2D(filters, kernel, padding="same", use_bias=False, name=name),
        layers.BatchNormalization(name=f"{name}_bn"),
        layers.ReLU(name=f"{name}_relu"),
    ]


STEMS = ("pool", "stride")


def _stem_layers(stem: str) -> list[layers.Layer]:
    """The first halving of the picture. "pool": a 3 x 3 convolution at full resolution,
    then max-pooling. "stride": the same convolution at every second pixel only, a
    quarter of the work where the trunk's memory traffic is largest. Padding one
    pixel at the right and bottom (not "same") keeps the cells of a window where they
    are in a picture of any size, odd or even."""
    if stem == "pool":
        # No normalisation at full resolution: there it would cost the most time.
        return [*_conv(16, 3, "c1", norm=False), layers.MaxPooling2D(2, name="pool1")]
    if stem == "stride":
        return [layers.ZeroPadding2D(((0, 1), (0, 1)), name="pad1"),
                layers.Conv2D(16, 3, strides=2, activation="relu",
                              kernel_initializer="he_normal", name="c1s")]
    raise ValueError(f"unknown stem {stem!r}: one of {', '.join(STEMS)}")


def stem_of(model: keras.Model) -> str:
    names = {layer.name for layer in model.layers}
    return "stride" if "c1s" in names else "pool"


@dataclass(frozen=True)
class Size:
    """How much the network can learn: the trunk's last width (the dense presence pass
    pays for it at every position) and the reader's 3 x 3 convolutions over the (8, 32)
    cells (paid only on candidate windows)."""

    trunk_width: int
    reader_convs: int
    reader_width: int


SIZES = {
    "compact": Size(trunk_width=64, reader_convs=1, reader_width=64),
    "wide": Size(trunk_width=96, reader_convs=2, reader_width=128),
}


def size_of(model: keras.Model) -> Size:
    """The size a model was built with, read off its layers."""
    names = {layer.name for layer in model.layers}
    convs = 1
    while f"r{convs + 1}" in names:
        convs += 1
    return Size(model.get_layer("c3").filters, convs, model.get_layer("r1").filters)


def _trunk_layers(stem: str, size: Size) -> list[layers.Layer]:
    return [
        layers.Rescaling(1.0 / 255.0, name="scale"),
        *_stem_layers(stem),
        *_conv(32, 3, "c2"),
        layers.MaxPooling2D(2, name="pool2"),
        *_conv(size.trunk_width, 3, "c3"),
        layers.MaxPooling2D((2, 1), name="pool3"),  # (8, 32) cells for a window
    ]


def _presence_layers() -> list[layers.Layer]:
    return [
        layers.Conv2D(8, 1, activation="relu", name="p_reduce"),
        # One window is 8 x 32 trunk cells; the stride of 2 across makes it 8 pixels.
        layers.Conv2D(32, (8, 32), strides=(1, 2), activation="relu", name="p_window"),
        layers.Conv2D(1, 1, name="p_logit", dtype="float32"),
    ]


def _reader_layers(size: Size) -> list[layers.Layer]:
    """Trunk cells (8, 32, C) -> one feature vector per 4-pixel column of the window."""
    convs = [layer for k in range(1, size.reader_convs + 1)
             for layer in _conv(size.reader_width, 3, f"r{k}")]
    return [
        *convs,
        layers.Conv2D(128, (WINDOW_H // 8, 1), use_bias=False, name="col_conv"),
        layers.BatchNormalization(name="col_bn"),
        layers.ReLU(name="col_relu"),
        layers.Reshape((N_COLUMNS, 128), name="col_flat"),
    ]


def _context_layers() -> list[layers.Layer]:
    """Each column's features with its neighbours': what the character there is."""
    return [
        layers.Conv1D(128, 3, padding="same", use_bias=False, name="r_ctx"),
        layers.BatchNormalization(name="r_ctx_bn"),
        layers.ReLU(name="r_ctx_relu"),
    ]


def _where_layers() -> list[layers.Layer]:
    """All columns, squeezed -> for each of the 7 positions, logits over the columns: where
    its character is. A small dense layer sees the whole line, so it can count."""
    return [
        layers.Dense(16, activation="relu", name="r_where_reduce"),
        layers.Flatten(name="r_where_flat"),
        layers.Dense(256, activation="relu", name="r_where_hidden"),
        layers.Dense(N_POSITIONS * N_COLUMNS, name="r_where_logits"),
        layers.Reshape((N_POSITIONS, N_COLUMNS), name="where", dtype="float32"),
    ]


def _what_layers() -> list[layers.Layer]:
    """Each position's glimpse (the columns' features weighted by its attention) -> its
    character logits, through a small dense layer of that position's own."""
    return [
        layers.EinsumDense("bpf,pfh->bph", output_shape=(N_POSITIONS, 128), bias_axes="ph",
                           activation="relu", name="r_pos_hidden"),
        layers.EinsumDense("bph,phn->bpn", output_shape=(N_POSITIONS, N_CLASSES),
                           bias_axes="pn", name="chars", dtype="float32"),
    ]


def _apply(x, stack: list[layers.Layer]):
    for layer in stack:
        x = layer(x)
    return x


def _read(cols, named=lambda stack: stack):
    """Column features -> (char logits, where logits); `named` swaps in a model's layers."""
    ctx = _apply(cols, named(_context_layers()))
    where = _apply(ctx, named(_where_layers()))
    attention = named([layers.Softmax(axis=-1, name="r_attention")])[0](where)
    glimpse = named([layers.Dot(axes=(2, 1), name="r_glimpse")])[0]([attention, ctx])
    return _apply(glimpse, named(_what_layers())), where


def build_model(stem: str = "pool", size: Size = SIZES["compact"]) -> keras.Model:
    inp = keras.Input((WINDOW_H, WINDOW_W, 1), name="window")
    feats = _apply(inp, _trunk_layers(stem, size))
    presence = layers.Reshape((1,), name="presence")(_apply(feats, _presence_layers()))
    cols = _apply(feats, _reader_layers(size))
    chars, where = _read(cols)
    return keras.Model(inp, {
        "presence": presence,
        "chars": chars,
        "where": where,
        "columns": layers.Dense(N_CLASSES, name="columns", dtype="float32")(cols),
    }, name="anprd")


def _named(model: keras.Model, stack: list[layers.Layer]) -> list[layers.Layer]:
    """The model's own layers with the names of a freshly built stack, in stack order."""
    return [model.get_layer(layer.name) for layer in stack]


def presence_net(model: keras.Model) -> keras.Model:
    """Fully convolutional presence: (B, H, W, 1) -> (B, (H-64)/8+1, (W-128)/8+1, 1) logits."""
    inp = keras.Input((None, None, 1), name="picture")
    x = _apply(inp, _named(model, _trunk_layers(stem_of(model), size_of(model))))
    return keras.Model(inp, _apply(x, _named(model, _presence_layers())), name="presence_net")


def reader_net(model: keras.Model) -> keras.Model:
    inp = keras.Input((WINDOW_H, WINDOW_W, 1), name="window")
    size = size_of(model)
    x = _apply(inp, _named(model, _trunk_layers(stem_of(model), size) + _reader_layers(size)))
    chars, where = _read(x, lambda stack: _named(model, stack))
    return keras.Model(inp, {"chars": chars, "where": where}, name="reader_net")


def presence_loss(y_true, y_pred):
    """7 x sigmoid cross-entropy of presence, as the seed design weighs it."""
    return 7.0 * keras.losses.binary_crossentropy(y_true, y_pred, from_logits=True)


def _present(y_true, dtype="float32"):
    """1 for windows with a plate, 0 for the others (whose labels are -1 everywhere)."""
    return ops.cast(y_true[:, 0] >= 0, dtype)


def _masked_ce(y_true, y_pred):
    """Softmax cross-entropy summed over positions, only for windows with a plate.

    `y_true` holds class indices; windows without a plate carry -1 everywhere.
    """
    y_true = ops.cast(y_true, "int32")
    present = _present(y_true, y_pred.dtype)
    ce = keras.losses.sparse_categorical_crossentropy(
        ops.maximum(y_true, 0), y_pred, from_logits=True
    )
    return ops.sum(ce, axis=-1) * present


def where_loss(y_true, y_pred):
    """Softmax cross-entropy of each position's logits over the columns against the
    column of its character's centre, summed over positions; positions without a
    character (no plate, the blank 7th of a legacy plate) count nothing.

    `y_true` is (B, 7) column indices, -1 where there is no character.
    """
    y_true = ops.cast(y_true, "int32")
    known = ops.cast(y_true >= 0, y_pred.dtype)
    ce = keras.losses.sparse_categorical_crossentropy(
        ops.maximum(y_true, 0), y_pred, from_logits=True
    )
    return ops.sum(ce * known, axis=-1)


def chars_loss(y_true, y_pred):
    """`y_true` is (B, 7): the plate's characters, then "no character"."""
    return _masked_ce(y_true, y_pred)


def columns_loss(y_true, y_pred):
    """Softmax cross-entropy of each column against the character centred in it ("no
    character" between characters), summed over columns, only for windows with a plate.

    `y_true` is (B, 32): the generator knows where it drew each character.
    """
    return _masked_ce(y_true, y_pred)


class PlateAccuracy(keras.metrics.Metric):
    """Share of plate-present windows whose 7 positions are all read right."""

    def __init__(self, name: str = "plate_acc", **kw):
        super().__init__(name=name, **kw)
        self.right = self.add_variable((), initializer="zeros", name="right")
        self.total = self.add_variable((), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        present = _present(y_true)
        hit = ops.all(ops.equal(ops.argmax(y_pred, axis=-1), y_true), axis=-1)
        self.right.assign_add(ops.sum(ops.cast(hit, "float32") * present))
        self.total.assign_add(ops.sum(present))

    def result(self):
        return self.right / ops.maximum(self.total, 1.0)

    def reset_state(self):
        self.right.assign(0.0)
        self.total.assign(0.0)


PRESENCE_LAYERS = tuple(layer.name for layer in _presence_layers())


def compile_model(model: keras.Model, learning_rate, presence_only: bool = False,
                  reader_only: bool = False) -> keras.Model:
    """Adam on the four losses.

    With `presence_only`, only the presence head is trainable: the trunk and the reader
    keep their weights (and the batch normalisation its statistics), so every reading
    stays as it was while the head learns new kinds of not-a-plate. The reading losses
    then weigh nothing, so the logged loss is the presence head's; the reading metrics
    are still computed, and show that reading did not change.

    With `reader_only`, the reader's own layers learn and the trunk and the presence
    head keep theirs, so the network finds plates as it did: `trainer finetune`."""
    if reader_only:
        kept = {layer.name for layer in _trunk_layers(stem_of(model), size_of(model))}
        kept |= set(PRESENCE_LAYERS)
    for layer in model.layers:
        if reader_only:
            layer.trainable = layer.name not in kept
        else:
            layer.trainable = not presence_only or layer.name in PRESENCE_LAYERS
    reading = 0.0 if presence_only else 1.0
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss={"presence": presence_loss, "chars": chars_loss, "columns": columns_loss,
              "where": where_loss},
        loss_weights={"presence": 0.0 if reader_only else 1.0, "chars": reading,
                      "columns": reading, "where": reading},
        metrics={
            "presence": [keras.metrics.BinaryAccuracy(name="acc", threshold=0.0)],
            "chars": [PlateAccuracy()],
        },
    )
    return model


CUSTOM_OBJECTS = {
    "presence_loss": presence_loss,
    "chars_loss": chars_loss,
    "columns_loss": columns_loss,
    "where_loss": where_loss,
    "PlateAccuracy": PlateAccuracy,
}


def load_model(path) -> keras.Model:
    """The network in a `.keras` file. A file that cannot be read, or is no model archive
    (cut short, or not weights at all), is a ValueError naming the cause: Keras's own
    message says "File not found"."""
    if Path(path).is_file():
        problem = weights_problem(Path(path))
        if problem is not None:
            raise ValueError(problem)
    return keras.saving.load_model(path, custom_objects=CUSTOM_OBJECTS, compile=False)
