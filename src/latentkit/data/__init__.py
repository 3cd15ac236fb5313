"""The data layer: named sources, file readers, transforms and batching.

Modules (import what you need; this package imports nothing itself, to keep start-up fast):

- :mod:`~latentkit.data.sources`: ``load``, ``available``, ``describe_sources`` (the registry)
- :mod:`~latentkit.data.mnist`, :mod:`~latentkit.data.idx`, :mod:`~latentkit.data.download`,
  :mod:`~latentkit.data.paths`: MNIST-family files, the IDX reader, verified downloads
- :mod:`~latentkit.data.images`, :mod:`~latentkit.data.tables`: folders of images, table files
  (:mod:`~latentkit.data.arrays`: ``.npy``/``.npz`` headers and blocks)
- :mod:`~latentkit.data.dsprites`: dSprites drawn procedurally, with its factor labels;
  :mod:`~latentkit.data.lazy`: ``LazyRows``, rows made on demand (``x[i:j]`` as float32)
- :mod:`~latentkit.data.limits`: the memory limits every reader checks before allocating
- :mod:`~latentkit.data.transforms`, :mod:`~latentkit.data.corruptions`,
  :mod:`~latentkit.data.patches`: scalers, binarization, grayscale, noise, masks, patches
- :mod:`~latentkit.data.batches`, :mod:`~latentkit.data.streaming`: in-memory and streamed batches
- :mod:`~latentkit.data.dataset`: the :class:`Dataset` every loader returns

The public entry point is :mod:`latentkit.datasets`.
"""
