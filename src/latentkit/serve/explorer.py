"""The model side of the latent-space explorer: codes, a 2-D projection and PNG images.

:class:`Explorer` wraps one trained model and, optionally, a dataset. At construction it
encodes a fixed subsample of the data (up to ``max_points`` rows, seeded), fits a 2-D
projection of the codes once, and derives slider ranges from them. Choices written down:

- Projection: the identity when ``latent_dim == 2``, ``(z, 0)`` when it is 1, else the map of
  :func:`latentkit.viz.maps.latent_map` (``map_method``, default ``"auto"``): t-SNE with
  openTSNE when it is installed (the ``maps`` extra) and there are enough points, else PCA.
  PCA's inverse ``mean + p @ components`` maps a clicked point back to a full code, and the
  page names it with the variance it explains. t-SNE has no inverse and no projection of new
  codes: :class:`NeighbourProjection` maps a clicked point to the inverse-squared-distance
  weighted mean of the codes of its ``k`` nearest map points (a data point's own position
  gives its own code), and a new code (an upload) to the same blend of the map positions of
  its ``k`` nearest data codes; the page names the method and says so.
- Slider ranges: the per-dimension min and max of the data codes widened by 10% of the span;
  without data, [-3, 3] (three prior standard deviations) and [0, 1] for discrete codes. The
  sliders start at the mean data code (zeros without data). With data whose factors are known
  (``Dataset.factors``, e.g. dsprites) each slider is labelled with the factor its latent
  carries most information about (:func:`latentkit.evaluation.latent_factors`; none below a
  normalised mutual information of 0.1), in ``info()["sliders"]["factors"]``.
- Images: decoded means are clamped to [0, 1] and sent as PNG data URLs at their native size
  (the page scales them with nearest-neighbour rendering). One-channel images are gray, three
  channels RGB, any other channel count shows the first channel; vector data ``(D,)`` is drawn
  as a one-pixel-high strip.
- Attribute vectors (latent arithmetic): when the map's data has labels and the model is not
  conditioned on them, the mean code of one class minus the mean code of the others, from the
  map's data codes: for two classes one vector (class 1 minus class 0, e.g. smiling minus
  neutral), for more one per class present (at most :data:`~latentkit.serve.validation.
  MAX_ATTRIBUTES` classes). Named with the data's ``class_names``; the page moves the current
  code along the chosen vector with a strength slider.
- Sequence models (token ids, :mod:`latentkit.serve.sequences`): every decoded output is sent
  as ``"strings"`` with ``"images"`` holding RDKit drawings of the valid molecules (None for
  other strings, other tokens or without RDKit) instead of pixels; a typed string is encoded by
  :meth:`Explorer.encode_string`, and image uploads are refused.
- Label-conditioned models decode with the request's ``label`` (0 when not given); the data
  codes use the data's own labels.
- Uploads are composited on white (transparency), converted to the model's channel count,
  resized to its height and width (bilinear) and scaled to [0, 1]; ``invert`` flips them for
  models trained on light strokes on a dark ground (MNIST, digits).

- Non-finite outputs: a code or decoded value that is NaN or infinite (a model whose weights
  are not finite, or codes far enough out to overflow) cannot be drawn or sent as JSON, so it
  is a :class:`~latentkit.serve.validation.RequestError` (422) naming what was not finite and,
  when the weights hold NaN/inf (checked once here), saying so. The request is well formed, but
  the server cannot process it with this model; a 5xx is kept for the server's own bugs. Data
  codes that are not finite leave no map (the note says why); the rest of the app still works.

Every model call holds one lock and runs under ``torch.inference_mode()``, so request threads
never run the model concurrently.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import itertools
import secrets
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from latentkit.apps.latent import code_difference, edit_codes, lerp, slerp
from latentkit.serve.sequences import sequence_info, sequence_outputs, string_to_ids
from latentkit.serve.validation import MAX_ATTRIBUTES, RequestError

if TYPE_CHECKING:
    from PIL import Image

    from latentkit.data.dataset import Dataset
    from latentkit.models.base import AbstractModel
    from latentkit.viz.maps import MapMethod

__all__ = [
    "Explorer",
    "NeighbourProjection",
    "Projection",
    "attribute_vectors",
    "fit_projection",
    "to_data_urls",
]


@dataclasses.dataclass(frozen=True)
class Projection:
    """A linear map between codes ``(N, D)`` and map points ``(N, 2)``."""

    name: str
    mean: np.ndarray  # (D,)
    components: np.ndarray  # (2, D), orthonormal rows (or a zero second row when D == 1)

    def project(self, z: np.ndarray) -> np.ndarray:
        return (z - self.mean) @ self.components.T  # (N, 2)

    def inverse(self, p: np.ndarray) -> np.ndarray:
        return self.mean + p @ self.components  # (N, D)


@dataclasses.dataclass(frozen=True)
class NeighbourProjection:
    """A non-linear map (t-SNE) of data codes ``(P, D)`` to points ``(P, 2)``, extended to new
    codes and points by blending the ``k`` nearest known ones (weights ``1 / distance**2``)."""

    name: str
    codes: np.ndarray  # (P, D)
    points: np.ndarray  # (P, 2)
    k: int = 8

    @staticmethod
    def _blend(queries: np.ndarray, keys: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
        d2 = np.square(queries[:, None, :] - keys[None]).sum(-1)  # (N, P)
        k = min(k, len(keys))
        near = np.argpartition(d2, k - 1, axis=1)[:, :k]  # (N, k)
        dist = np.take_along_axis(d2, near, axis=1)
        exact = dist <= 1e-18
        weights = np.where(exact.any(1, keepdims=True), exact, 1.0 / np.maximum(dist, 1e-300))
        weights = weights / weights.sum(1, keepdims=True)
        return np.einsum("nk,nkd->nd", weights, values[near])

    def project(self, z: np.ndarray) -> np.ndarray:
        return self._blend(np.asarray(z, np.float64), self.codes, self.points, self.k)  # (N, 2)

    def inverse(self, p: np.ndarray) -> np.ndarray:
        return self._blend(np.asarray(p, np.float64), self.points, self.codes, self.k)  # (N, D)


def fit_projection(
    codes: np.ndarray, method: MapMethod = "auto", *, seed: int = 0
) -> Projection | NeighbourProjection:
    """The identity for 1-D and 2-D codes, else :func:`latentkit.viz.maps.latent_map` by
    ``method``: PCA as a linear :class:`Projection`, t-SNE as a :class:`NeighbourProjection`."""
    from latentkit.viz.maps import latent_map  # imports matplotlib: only once a map is made

    d = codes.shape[1]
    mapped = latent_map(codes, method, seed=seed)
    if d <= 2:
        name = "latent coordinates (z1, z2)" if d == 2 else "latent coordinate z1 (y = 0)"
        return Projection(name, np.zeros(d), np.eye(2, d))
    if mapped.linear:
        assert mapped.mean is not None and mapped.components is not None
        name = f"PCA: 2 of {d} latent dimensions ({mapped.explained:.0%} of the variance)"
        if mapped.note:
            name += f"; {mapped.note}"
        return Projection(name, mapped.mean, mapped.components)
    name = (
        f"t-SNE of {d}-D codes (openTSNE): a non-linear map, so a clicked point decodes a "
        "blend of the nearest data codes"
    )
    return NeighbourProjection(name, np.asarray(codes, np.float64), mapped.points)


def to_data_urls(x: Tensor) -> list[str]:
    """PNG data URLs of decoded data ``(N, *input_shape)``, values clamped to [0, 1]."""
    from PIL import Image

    x = x.detach().float().cpu().clamp(0, 1)
    pixels = (x * 255).round().to(torch.uint8).numpy()
    urls = []
    for item in pixels:
        if item.ndim == 3 and item.shape[0] == 3:
            image = Image.fromarray(np.ascontiguousarray(item.transpose(1, 2, 0)), "RGB")
        elif item.ndim == 3:
            image = Image.fromarray(np.ascontiguousarray(item[0]), "L")
        else:
            image = Image.fromarray(item.reshape(1, -1), "L")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        urls.append("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())
    return urls


class Explorer:
    """A trained model with the state the explorer page needs (codes, projection, ranges)."""

    def __init__(
        self,
        model: AbstractModel,
        data: Dataset | None = None,
        *,
        note: str | None = None,
        max_points: int = 1000,
        seed: int = 0,
        map_method: MapMethod = "auto",
    ) -> None:
        model.eval()
        self.model = model
        self.lock = threading.Lock()
        conditional = model.capabilities.conditional
        self.num_classes: int | None = model.config.num_classes if conditional else None
        self.latent_dim = model.latent_dim
        self.data = data
        self.note = note
        self.projection: Projection | NeighbourProjection | None = None
        self.attributes: list[tuple[str, Tensor]] = []  # (name, vector (D,))
        self.factor_labels: list[str | None] | None = None  # the factor each latent carries
        tensors = itertools.chain(model.parameters(), model.buffers())
        self.finite_weights = all(bool(torch.isfinite(t).all()) for t in tensors)
        if data is not None and tuple(data.x.shape[1:]) != tuple(model.input_shape):
            self.note = (
                f"{data.name}: data points of shape {tuple(data.x.shape[1:])} do not match the "
                f"model's input shape {tuple(model.input_shape)}; no map."
            )
            self.data = data = None
        codes = None
        if data is not None:
            generator = torch.Generator().manual_seed(seed)
            order = torch.randperm(len(data), generator=generator)[:max_points]
            self.indices = order.sort().values  # (P,) dataset rows on the map
            y = None if data.y is None else data.y[self.indices]
            try:
                codes = self._encode(data.x[self.indices], y).numpy().astype(np.float64)  # (P, D)
            except RequestError as exc:  # non-finite codes: no map, the note says why
                self.note = f"{data.name}: {exc.message} No map."
            self.labels = y
        if codes is None:
            lo, hi = model.code_range or (-3.0, 3.0)  # unbounded codes: the prior's bulk
            self.low = np.full(self.latent_dim, lo)
            self.high = np.full(self.latent_dim, hi)
            self.start = np.full(self.latent_dim, (lo + hi) / 2)
            if self.note is None:
                self.note = "no data given (--data): no map."
            return
        if y is not None and self.num_classes is None:
            self.attributes = attribute_vectors(codes, y, data.meta.get("class_names"))
        if data.factors is not None:  # dsprites: name what each slider moves
            from latentkit.evaluation.disentanglement import latent_factors

            names = data.meta.get("factor_names") or None
            self.factor_labels = latent_factors(codes, data.factors[self.indices], names)
        self.projection = fit_projection(codes, map_method, seed=seed)
        self.points = self.projection.project(codes)  # (P, 2)
        span = codes.max(0) - codes.min(0)
        pad = np.maximum(0.1 * span, 1e-3)
        self.low, self.high = codes.min(0) - pad, codes.max(0) + pad
        self.start = codes.mean(0)

    # -- model calls (locked) ------------------------------------------------------------
    def _labels(self, label: int | None, n: int, *, required: bool = True) -> Tensor | None:
        if self.num_classes is None:
            if label is not None:
                raise RequestError(422, "this model is not conditioned on labels; drop 'label'.")
            return None
        if label is None and not required:
            return None
        label = 0 if label is None else label
        if label >= self.num_classes:
            raise RequestError(422, f"label must be in [0, {self.num_classes}), got {label}.")
        return torch.full((n,), label, dtype=torch.long)

    def _finite(self, values: Tensor, what: str) -> Tensor:
        """``values``, or a :class:`RequestError` (422) when any is NaN or infinite."""
        if bool(torch.isfinite(values).all()):
            return values
        why = (
            "its weights are not finite; retrain it or load other weights."
            if not self.finite_weights
            else "try codes or inputs closer to the data (e.g. within the sliders' ranges)."
        )
        raise RequestError(422, f"the model produced non-finite {what} (NaN/inf): {why}")

    def _encode(self, x: Tensor, y: Tensor | None, chunk: int = 256) -> Tensor:
        """Codes ``(N, D)`` on the CPU, encoded in chunks; refused when not finite."""
        device = self.model.device
        if y is None and self.model.needs_labels:
            y = torch.zeros(len(x), dtype=torch.long)
        out = []
        with self.lock, torch.inference_mode():
            for i in range(0, len(x), chunk):
                yi = None if y is None else y[i : i + chunk].to(device)
                out.append(self.model.encode(x[i : i + chunk].to(device), yi).float().cpu())
        return self._finite(torch.cat(out), "codes")

    def _decode(self, z: Tensor, y: Tensor | None) -> Tensor:
        """Decoded means on the CPU; refused when not finite."""
        device = self.model.device
        with self.lock, torch.inference_mode():
            yd = None if y is None else y.to(device)
            x = self.model.decode(z.to(device, torch.float32), yd).float().cpu()
        return self._finite(x, "values when decoding")

    def _outputs(self, x: Tensor) -> dict[str, list]:
        """What the page shows of decoded data ``(N, *input_shape)``: ``{"images": [...]}``
        (PNG data URLs), and for a sequence model the decoded ``"strings"`` too."""
        if self.model.capabilities.sequence:
            return sequence_outputs(self.model, x)
        return {"images": to_data_urls(x)}

    # -- endpoints ------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        dims = min(16, self.latent_dim)
        return {
            "model_type": self.model.model_type,
            "latent_dim": self.latent_dim,
            "input_shape": list(self.model.input_shape),
            "num_classes": self.num_classes,
            "can_sample": self.model.capabilities.generative,
            "sequence": sequence_info(self.model),
            "projection": None if self.projection is None else self.projection.name,
            "map_available": self.projection is not None,
            "message": self.note,
            "data": None if self.data is None else {"name": self.data.name, "size": len(self.data)},
            "attributes": [
                {"name": name, "norm": round(float(v.norm()), 4)} for name, v in self.attributes
            ],
            "sliders": {
                "dims": dims,
                "min": _round(self.low[:dims]),
                "max": _round(self.high[:dims]),
                "start": _round(self.start),
                "factors": None if self.factor_labels is None else self.factor_labels[:dims],
            },
        }

    def decode(self, codes: list[list[float]], label: int | None) -> dict[str, list]:
        z = torch.tensor(codes, dtype=torch.float32)  # (N, D)
        return self._outputs(self._decode(z, self._labels(label, len(z))))

    def sample(self, n: int, temperature: float, seed: int | None, label: int | None) -> dict:
        if not self.model.capabilities.generative:
            raise RequestError(
                400,
                f"a {self.model.model_type} has no prior to sample from; decode codes instead "
                "(sampling needs a model of the VAE family).",
            )
        seed = secrets.randbelow(2**31) if seed is None else seed
        generator = torch.Generator(self.model.device).manual_seed(seed)
        y = self._labels(label, n)
        with self.lock, torch.inference_mode():
            yd = None if y is None else y.to(self.model.device)
            x = self.model.sample(n, temperature=temperature, generator=generator, y=yd)
        x = self._finite(x.float().cpu(), "values when sampling")
        return {**self._outputs(x), "seed": seed}

    def data_codes(self, index_a: int, index_b: int) -> tuple[list[float], list[float]]:
        """The codes of two dataset rows (for interpolation by index)."""
        if self.data is None:
            raise RequestError(400, "no data is loaded (start with --data); give z_a and z_b.")
        for name, i in (("index_a", index_a), ("index_b", index_b)):
            if i >= len(self.data):
                raise RequestError(
                    422, f"{name}={i} is out of range; the data has {len(self.data)} rows."
                )
        rows = torch.tensor([index_a, index_b])
        y = None if self.data.y is None else self.data.y[rows]
        codes = self._encode(self.data.x[rows], y)
        return codes[0].tolist(), codes[1].tolist()

    def interpolate(
        self, z_a: list[float], z_b: list[float], steps: int, method: str, label: int | None
    ) -> dict:
        a = torch.tensor([z_a], dtype=torch.float32)
        b = torch.tensor([z_b], dtype=torch.float32)
        t = torch.linspace(0, 1, steps)
        path = (slerp if method == "spherical" else lerp)(a, b, t)[:, 0]  # (T, D)
        outputs = self._outputs(self._decode(path, self._labels(label, steps)))
        return {**outputs, "codes": [_round(c) for c in path.numpy()]}

    def attribute(
        self, z: list[float], attribute: int, strengths: list[float], label: int | None
    ) -> dict:
        """Decode ``z + s * vector`` for each strength ``s`` of the chosen attribute vector."""
        if not self.attributes:
            why = (
                "the model is conditioned on labels"
                if self.num_classes is not None
                else "the data has no labels"
                if self.data is not None
                else self.note
            )
            raise RequestError(400, f"no attribute vectors: {why}.")
        if attribute >= len(self.attributes):
            raise RequestError(
                422, f"attribute must be in [0, {len(self.attributes)}), got {attribute}."
            )
        vector = self.attributes[attribute][1]
        code = torch.tensor([z], dtype=torch.float32)  # (1, D)
        moved = edit_codes(code, vector, strengths)[:, 0]  # (S, D)
        outputs = self._outputs(self._decode(moved, self._labels(label, len(moved))))
        return {**outputs, "codes": [_round(c) for c in moved.numpy()]}

    def map(self) -> dict:
        if self.projection is None:
            return {"available": False, "message": self.note}
        return {
            "available": True,
            "projection": self.projection.name,
            "points": [_round(p) for p in self.points],
            "labels": None if self.labels is None else self.labels.tolist(),
            "indices": self.indices.tolist(),
        }

    def map_decode(self, point: list[float], label: int | None) -> dict:
        if self.projection is None:
            raise RequestError(400, f"there is no map: {self.note}")
        z = self.projection.inverse(np.asarray([point], dtype=np.float64))  # (1, D)
        code = torch.from_numpy(z).float()
        return {"code": _round(z[0]), **self.decode(code.tolist(), label)}

    def encode_string(self, text: str) -> dict:
        """Code, map point and greedy reconstruction of one string (a sequence model)."""
        x = string_to_ids(self.model, text)  # (1, L); refused (422) when it cannot be encoded
        z = self._encode(x, None)  # (1, D)
        return {
            "code": _round(z[0].numpy()),
            "input": sequence_outputs(self.model, x),
            "reconstruction": self._outputs(self._decode(z, None)),
            "point": self._point(z),
        }

    def _point(self, z: Tensor) -> list[float] | None:
        """The map position of one code ``(1, D)`` (None without a map)."""
        if self.projection is None:
            return None
        return _round(self.projection.project(z.numpy().astype(np.float64))[0])

    def encode_image(self, image: Image.Image, invert: bool, label: int | None) -> dict:
        x = image_to_tensor(image, tuple(self.model.input_shape), invert=invert)  # (1, C, H, W)
        y = self._labels(label, 1, required=self.model.needs_labels)
        z = self._encode(x, y)  # (1, D)
        reconstruction = self._decode(z, self._labels(label, 1))
        return {
            "code": _round(z[0].numpy()),
            "input": to_data_urls(x)[0],
            "reconstruction": to_data_urls(reconstruction)[0],
            "point": self._point(z),
        }


def attribute_vectors(
    codes: np.ndarray, labels: Tensor, class_names: object = None
) -> list[tuple[str, Tensor]]:
    """Named attribute vectors ``(D,)`` of data codes ``(P, D)`` with labels ``(P,)``: for two
    classes 0 and 1 one (1 minus 0), else one per class present (that class minus the others);
    none for a single class or more than ``MAX_ATTRIBUTES`` classes."""
    z = torch.from_numpy(codes).float()
    classes = sorted(torch.unique(labels).tolist())
    names = class_names if isinstance(class_names, list) else []

    def name(c: int) -> str:
        return str(names[c]) if 0 <= c < len(names) else str(c)

    if classes == [0, 1]:
        return [(f"{name(1)} − {name(0)}", code_difference(z, labels, 1, 0))]
    if len(classes) < 2 or len(classes) > MAX_ATTRIBUTES:
        return []
    return [(f"{name(c)} − others", code_difference(z, labels, c)) for c in classes]


def image_to_tensor(image: Image.Image, shape: tuple[int, ...], *, invert: bool) -> Tensor:
    """An uploaded image as a model input ``(1, C, H, W)`` in [0, 1]."""
    from PIL import Image

    if len(shape) != 3 or shape[0] not in (1, 3):
        raise RequestError(
            400,
            f"uploads need a model of 1- or 3-channel images; this model's input shape is {shape}.",
        )
    channels, height, width = shape
    rgba = image.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat.alpha_composite(rgba)
    converted = flat.convert("L" if channels == 1 else "RGB")
    resized = converted.resize((width, height), Image.Resampling.BILINEAR)
    array = np.asarray(resized, dtype=np.float32) / 255.0
    array = array[None] if channels == 1 else array.transpose(2, 0, 1)  # (C, H, W)
    x = torch.from_numpy(np.ascontiguousarray(array))[None]
    return 1.0 - x if invert else x


def _round(values: np.ndarray | Tensor, digits: int = 4) -> list[float]:
    return [round(float(v), digits) for v in values]
