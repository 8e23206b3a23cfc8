"""A few Keras training steps on a Sluice dataset via `to_tensorflow()`.

    python examples/tensorflow_pipeline.py --host http://127.0.0.1:8085 --steps 10

The images are decoded and resized by tf.data; the model learns how many objects an image
holds (a regression target made from the ragged instance dimension).
"""

from __future__ import annotations

import argparse

import tensorflow as tf
from sluice import Project

SIZE = 96


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None, help="server URL (default $SLUICE_HOST or http://127.0.0.1:8085)")
    parser.add_argument("--project", default="coco-dataset")
    parser.add_argument("--dataset", default="Default")
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()

    tf.random.set_seed(0)
    ds = Project(args.project, host=args.host).directory.get(name=args.dataset)

    def to_example(element: dict) -> tuple:
        image = tf.image.resize(element["image"], (SIZE, SIZE)) / 255.0
        return image, tf.cast(tf.shape(element["boxes"])[0], tf.float32)

    pipeline = (ds.to_tensorflow(decode=True, shuffle_seed=0).map(to_example, num_parallel_calls=tf.data.AUTOTUNE)
                .batch(4).repeat().prefetch(tf.data.AUTOTUNE))
    model = tf.keras.Sequential([
        tf.keras.Input((SIZE, SIZE, 3)),
        tf.keras.layers.Conv2D(16, 3, activation="relu"), tf.keras.layers.MaxPooling2D(),
        tf.keras.layers.Conv2D(32, 3, activation="relu"), tf.keras.layers.GlobalAveragePooling2D(),
        tf.keras.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(pipeline, steps_per_epoch=args.steps, epochs=1, verbose=2)
    print(f"trained {args.steps} steps on {len(ds)} items; loss {history.history['loss'][-1]:.4f}")


if __name__ == "__main__":
    main()
