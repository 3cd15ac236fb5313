"""Fitted scalers, binarization and grayscale conversion for batches of data.

Scalers follow the scikit-learn estimator pattern: ``__init__`` stores options, ``fit`` learns
statistics on the training data (attributes ending in ``_``), ``transform`` and
``inverse_transform`` apply them. Their state round-trips through JSON (``to_dict`` /
``scaler_from_dict``) so it can be saved beside a model and applied to new data.

Statistics are taken ``per="feature"`` (one per column or pixel), ``per="channel"`` (one per
channel of ``(N, C, H, W)`` images; per column for tables) or ``per="global"`` (one number). A
constant feature has zero spread; it is mapped to the lower bound (min-max) or to zero
(standardisation) rather than divided by zero.

Binarization follows the convention of Salakhutdinov and Murray (ICML 2008) for MNIST:
*dynamic* binarization draws fresh Bernoulli pixels at every call (a new view each epoch),
*static* binarization draws them once with a fixed seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

import torch
from torch import Tensor

__all__ = [
    "BT601",
    "SCALERS",
    "MinMaxScaler",
    "Per",
    "Scaler",
    "Standardizer",
    "binarize_dynamic",
    "binarize_static",
    "binarize_threshold",
    "rgb_to_gray",
    "scaler_from_dict",
]

Per = Literal["feature", "channel", "global"]

#: ITU-R BT.601 luma weights for (R, G, B)
BT601 = (0.299, 0.587, 0.114)


def _stat_dims(x: Tensor, per: Per) -> tuple[int, ...]:
    """Dimensions reduced when fitting: always the batch dimension 0."""
    if per == "feature":
        return (0,)
    if per == "channel":
        return (0, *range(2, x.ndim))
    return tuple(range(x.ndim))


class Scaler:
    """Base of the fitted scalers (not used directly)."""

    kind: ClassVar[str] = ""
    _stats: ClassVar[tuple[str, ...]] = ()

    def __init__(self, per: Per = "feature") -> None:
        if per not in ("feature", "channel", "global"):
            raise ValueError(f"per must be 'feature', 'channel' or 'global', got {per!r}.")
        self.per = per

    # -- to implement -------------------------------------------------------------------
    def _fit(self, x: Tensor, dims: tuple[int, ...]) -> None:
        raise NotImplementedError

    def _options(self) -> dict[str, Any]:
        return {"per": self.per}

    # -- shared -------------------------------------------------------------------------
    def fit(self, x: Tensor) -> Self:
        """Learn the statistics from ``x`` of shape (N, ...) (training data only)."""
        if x.ndim < 2 or len(x) == 0:
            raise ValueError(f"fit needs a non-empty (N, ...) tensor, got {tuple(x.shape)}.")
        self._fit(x.detach().to(torch.float32), _stat_dims(x, self.per))
        return self

    def _check(self, x: Tensor) -> None:
        first = self._check_fitted()
        if x.ndim != first.ndim + 1 or any(
            s not in (1, d) for s, d in zip(first.shape, x.shape[1:], strict=True)
        ):
            raise ValueError(
                f"{type(self).__name__} was fitted on samples of shape {tuple(first.shape)} "
                f"(1 = shared), got a batch of shape {tuple(x.shape)}."
            )

    def _on(self, x: Tensor) -> list[Tensor]:
        self._check(x)
        return [getattr(self, name).to(device=x.device, dtype=x.dtype) for name in self._stats]

    def fit_transform(self, x: Tensor) -> Tensor:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def transform(self, x: Tensor) -> Tensor:
        """Apply the fitted statistics to ``x`` of shape (N, ...)."""
        raise NotImplementedError

    def inverse_transform(self, x: Tensor) -> Tensor:
        """Undo :meth:`transform`."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible state: type, options, statistic shape and flat values."""
        first = self._check_fitted()
        state: dict[str, Any] = {"type": self.kind, **self._options()}
        state["shape"] = list(first.shape)
        for name in self._stats:
            state[name.rstrip("_")] = getattr(self, name).flatten().tolist()
        return state

    def _check_fitted(self) -> Tensor:
        first = getattr(self, self._stats[0], None)
        if first is None:
            raise ValueError(f"{type(self).__name__} is not fitted: call fit(train_x) first.")
        return first

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Self:
        """Rebuild a fitted scaler from :meth:`to_dict` output, checking every field."""
        stats = [name.rstrip("_") for name in cls._stats]
        if state.get("type") != cls.kind:
            raise ValueError(f"expected a scaler of type {cls.kind!r}, got {state.get('type')!r}.")
        missing = [k for k in ("shape", *stats) if k not in state]
        if missing:
            raise ValueError(f"{cls.__name__} state lacks {', '.join(missing)}.")
        options = {k: v for k, v in state.items() if k not in ("type", "shape", *stats)}
        try:
            scaler = cls(**options)
        except TypeError as exc:
            raise ValueError(f"{cls.__name__} state has unknown options: {exc}.") from exc
        shape = state["shape"]
        if not (
            isinstance(shape, list | tuple)
            and len(shape) <= 16
            and all(_is_int(s) and s >= 1 for s in shape)
        ):
            raise ValueError(
                f"{cls.__name__} state: shape must be a list of at most 16 positive integers, "
                f"got {shape!r:.60}."
            )
        size = math.prod(shape)
        for name in cls._stats:
            key = name.rstrip("_")
            values = state[key]
            if not isinstance(values, list | tuple):
                raise ValueError(
                    f"{cls.__name__} state: {key} must be a flat list of {size} numbers, got "
                    f"{values!r:.60}."
                )
            if len(values) != size:
                raise ValueError(
                    f"{cls.__name__} state: {key} has {len(values)} values, expected {size} "
                    f"for shape {tuple(shape)}."
                )
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                raise ValueError(f"{cls.__name__} state: {key} must hold numbers only.")
            try:
                tensor = torch.tensor(values, dtype=torch.float32)
            except (OverflowError, RuntimeError) as exc:  # an integer beyond 64 bits
                raise ValueError(f"{cls.__name__} state: {key} holds a number too large.") from exc
            if not bool(torch.isfinite(tensor).all()):
                raise ValueError(
                    f"{cls.__name__} state: {key} holds values that are not finite in float32 "
                    "(NaN, inf or beyond 3.4e38)."
                )
            setattr(scaler, name, tensor.reshape(tuple(shape)))
        scaler._check_stats()
        return scaler

    def _check_stats(self) -> None:
        """Refuse statistics that cannot come from :meth:`fit` (after :meth:`from_dict`)."""


class MinMaxScaler(Scaler):
    """Map each statistic group linearly from its [min, max] on the training data to a range.

    Parameters
    ----------
    feature_range : (float, float)
        Target ``(low, high)``.
    per : {"feature", "channel", "global"}
        What one minimum and maximum are computed over.

    Attributes
    ----------
    min_, max_ : Tensor of shape like one sample (size 1 along pooled dimensions)
    """

    kind = "minmax"
    _stats = ("min_", "max_")

    def __init__(
        self, feature_range: tuple[float, float] | list[float] = (0.0, 1.0), per: Per = "feature"
    ) -> None:
        super().__init__(per)
        low, high = (float(v) for v in feature_range)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(
                f"feature_range must be finite with low < high, got {feature_range!r}."
            )
        self.feature_range = (low, high)
        self.min_: Tensor | None = None
        self.max_: Tensor | None = None

    def _options(self) -> dict[str, Any]:
        return {"per": self.per, "feature_range": list(self.feature_range)}

    def _fit(self, x: Tensor, dims: tuple[int, ...]) -> None:
        self.min_ = x.amin(dim=dims, keepdim=True)[0]
        self.max_ = x.amax(dim=dims, keepdim=True)[0]

    def _check_stats(self) -> None:
        if bool((self.max_ < self.min_).any()):
            raise ValueError(f"{type(self).__name__} state: max must be >= min everywhere.")

    def _scale(self, lo: Tensor, hi: Tensor) -> Tensor:
        low, high = self.feature_range
        spread = hi - lo
        return (high - low) / torch.where(spread > 0, spread, torch.ones_like(spread))

    def transform(self, x: Tensor) -> Tensor:
        """Scale ``x`` of shape (N, ...) into ``feature_range`` (training range)."""
        lo, hi = self._on(x)
        return (x - lo) * self._scale(lo, hi) + self.feature_range[0]

    def inverse_transform(self, x: Tensor) -> Tensor:
        """Undo :meth:`transform`."""
        lo, hi = self._on(x)
        return (x - self.feature_range[0]) / self._scale(lo, hi) + lo


class Standardizer(Scaler):
    """Subtract the training mean and divide by the training standard deviation.

    Parameters
    ----------
    per : {"feature", "channel", "global"}
        What one mean and deviation are computed over.

    Attributes
    ----------
    mean_, std_ : Tensor of shape like one sample (size 1 along pooled dimensions)
        ``std_`` is the population deviation, with zeros replaced by one.
    """

    kind = "standard"
    _stats = ("mean_", "std_")

    def __init__(self, per: Per = "feature") -> None:
        super().__init__(per)
        self.mean_: Tensor | None = None
        self.std_: Tensor | None = None

    def _fit(self, x: Tensor, dims: tuple[int, ...]) -> None:
        std, mean = torch.std_mean(x, dim=dims, correction=0, keepdim=True)
        self.mean_ = mean[0]
        self.std_ = torch.where(std[0] > 0, std[0], torch.ones_like(std[0]))

    def _check_stats(self) -> None:
        if not bool((self.std_ > 0).all()):
            raise ValueError(
                f"{type(self).__name__} state: std must be > 0 everywhere (fit stores a zero "
                "spread as 1), got "
                f"{self.std_.flatten()[self.std_.flatten() <= 0][:3].tolist()}."
            )

    def transform(self, x: Tensor) -> Tensor:
        """Standardise ``x`` of shape (N, ...)."""
        mean, std = self._on(x)
        return (x - mean) / std

    def inverse_transform(self, x: Tensor) -> Tensor:
        """Undo :meth:`transform`."""
        mean, std = self._on(x)
        return x * std + mean


#: scaler type name (``to_dict()["type"]``) -> class
SCALERS: dict[str, type[Scaler]] = {c.kind: c for c in (MinMaxScaler, Standardizer)}


def scaler_from_dict(state: Mapping[str, Any]) -> Scaler:
    """Rebuild any fitted scaler from its :meth:`Scaler.to_dict` state."""
    kind = state.get("type") if isinstance(state, Mapping) else None
    if kind not in SCALERS:
        raise ValueError(f"unknown scaler type {kind!r}; expected one of {', '.join(SCALERS)}.")
    return SCALERS[kind].from_dict(state)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_unit(x: Tensor, what: str) -> None:
    if x.numel() and (float(x.min()) < 0.0 or float(x.max()) > 1.0):
        raise ValueError(
            f"{what} needs values in [0, 1], found [{float(x.min()):g}, {float(x.max()):g}]; "
            "scale the data first (e.g. MinMaxScaler)."
        )


def binarize_dynamic(x: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
    """Fresh Bernoulli pixels at each call: ``out ~ Bernoulli(x)``.

    Parameters
    ----------
    x : Tensor of shape (N, ...), values in [0, 1]
        Probabilities (e.g. gray levels).
    generator : torch.Generator, optional
        Source of randomness (on the device of ``x``).

    Returns
    -------
    Tensor of the shape and dtype of ``x``
        Zeros and ones.
    """
    _check_unit(x, "binarize_dynamic")
    return torch.bernoulli(x, generator=generator)


def binarize_static(x: Tensor, *, seed: int = 0) -> Tensor:
    """The same Bernoulli draw every time for the same ``x`` and ``seed``.

    Parameters
    ----------
    x : Tensor of shape (N, ...), values in [0, 1]
    seed : int
        Seed of the one draw.

    Returns
    -------
    Tensor of the shape and dtype of ``x``
    """
    _check_unit(x, "binarize_static")
    generator = torch.Generator(device=x.device).manual_seed(seed)
    return torch.bernoulli(x, generator=generator)


def binarize_threshold(x: Tensor, threshold: float = 0.5) -> Tensor:
    """Deterministic binarization: 1 where ``x > threshold``; same shape and dtype as ``x``."""
    return (x > threshold).to(x.dtype)


def rgb_to_gray(x: Tensor) -> Tensor:
    """Convert RGB images to one luma channel with the ITU-R BT.601 weights.

    Parameters
    ----------
    x : Tensor of shape (N, 3, H, W) or (N, 1, H, W)
        Images; one-channel input is returned unchanged.

    Returns
    -------
    Tensor of shape (N, 1, H, W)
        ``0.299 R + 0.587 G + 0.114 B``.
    """
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"rgb_to_gray expects (N, 3, H, W) images, got {tuple(x.shape)}.")
    if x.shape[1] == 1:
        return x
    weights = torch.tensor(BT601, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * weights).sum(dim=1, keepdim=True)  # (N, 1, H, W)
