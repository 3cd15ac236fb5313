"""The tabular anomaly tasks of ``anomaly_tabular.py``: scikit-learn's bundled tables and the
tables in ``$LATENTKIT_DATA/tables``, each turned into ODDS-style tasks (normal rows plus a small
fraction of rows of a held-back class, a fresh seeded subsample of them for every seed).

| dataset | rows x features | anomalies | kind |
|---|---|---|---|
| breast cancer | 569 x 30 | malignant, 8% | global |
| wine | 178 x 13 | each cultivar in turn, 8% (3 tasks) | a rare class among clusters |
| digits | 1797 x 64 | each digit in turn is normal, the nine others 10% (10 tasks) | global |
| iris | 150 x 4 | each species in turn, 8% (3 tasks) | a rare class among clusters, d <= 10 |
| penguins | 342 x 4 | each species in turn, 8% (3 tasks) | a rare class among clusters, d <= 10 |
| diamonds | 53940 x 7 | "Fair" cut, 8% of 2000 rows | d <= 10 |
| titanic | 714 x 5 | survivors, 8% | d <= 10 |
| german credit | 1000 x 61 | "bad" credit, 8% | numbers + one-hot categories |
| adult | 48842 x 108 | income > 50K, 8% of 2000 rows | numbers + one-hot categories |

Numbers are read as they are; categories are one-hot encoded with a level for a missing value;
rows with a missing number are dropped (penguins, titanic). Tables with more normal rows than
``MAX_NORMAL`` use a seeded subsample of them. Every task is z-scored over its rows (constant
columns become 0), the same for every method.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MAX_NORMAL = 2000  # normal rows per task at most (diamonds, adult)
FRACTION = 0.08  # anomalies' share of a task (digits: 0.10, as in the earlier table)
DATASETS = ("breast cancer", "wine", "digits", "iris", "penguins", "diamonds", "titanic",
            "german credit", "adult")  # fmt: skip
FEW_FEATURES = ("iris", "penguins", "diamonds", "titanic")  # d <= 10
CLUSTERED = ("wine", "iris", "penguins")  # a rare class among several clusters


@dataclass
class Task:
    """One anomaly task: standardised rows and 0/1 anomaly labels."""

    x: np.ndarray  # (n_samples, n_features)
    anomalous: np.ndarray  # (n_samples,)


@dataclass
class Table:
    """A labelled table: features, integer classes and the tasks' anomaly classes."""

    x: np.ndarray  # (n_rows, n_features)
    classes: np.ndarray  # (n_rows,)
    anomaly_classes: tuple[int, ...]  # each gives one task; () for digits' "each normal"


def anomaly_count(n_normal: int, fraction: float) -> int:
    """Anomalies to add to ``n_normal`` rows so that they make up ``fraction`` of all rows."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}.")
    return max(1, round(fraction * n_normal / (1 - fraction)))


def standardise(x: np.ndarray) -> np.ndarray:
    """Z-scores per column; constant columns become 0."""
    x = np.asarray(x, dtype=np.float64)
    std = x.std(0)
    return (x - x.mean(0)) / np.where(std > 0, std, 1.0)


def make_task(x: np.ndarray, normal: np.ndarray, pool: np.ndarray, fraction: float,
              rng: np.random.Generator) -> Task:  # fmt: skip
    """Rows ``normal`` (at most ``MAX_NORMAL`` of them, a seeded subsample) plus a random
    subsample of ``pool`` making up ``fraction`` of the task."""
    if len(normal) > MAX_NORMAL:
        normal = np.sort(rng.choice(normal, size=MAX_NORMAL, replace=False))
    n = min(anomaly_count(len(normal), fraction), len(pool))
    anomalies = rng.choice(pool, size=n, replace=False)
    rows = np.concatenate([normal, anomalies])
    labels = np.r_[np.zeros(len(normal)), np.ones(n)]
    return Task(standardise(x[rows]), labels)


def data_root() -> Path:
    """The shared data folder (``LATENTKIT_DATA``, or ``shared/data`` beside the repository)."""
    return Path(os.environ.get("LATENTKIT_DATA", str(HERE.parents[1] / "shared" / "data")))


def _read_csv(name: str) -> dict[str, np.ndarray]:
    """Columns of ``tables/<name>.csv``: numbers as float64 (NaN for gaps), text as objects."""
    import pyarrow.csv as pacsv

    path = data_root() / "tables" / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: set LATENTKIT_DATA to the shared data folder.")
    options = pacsv.ConvertOptions(null_values=["", "NA"], strings_can_be_null=True)
    table = pacsv.read_csv(path, convert_options=options)
    columns = {}
    for name_, column in zip(table.column_names, table.columns, strict=True):
        values = column.to_numpy(zero_copy_only=False)
        if values.dtype.kind in "iuf":
            values = values.astype(np.float64)
        columns[name_] = values
    return columns


def _one_hot(values: np.ndarray) -> np.ndarray:
    """(n, levels) indicator columns of a text column, missing values as their own level."""
    text = np.array(["<missing>" if v is None else str(v) for v in values])
    return (text[:, None] == np.unique(text)[None, :]).astype(np.float64)


def _features(columns: dict[str, np.ndarray]) -> np.ndarray:
    """Numbers as they are, text one-hot, side by side: (n, features)."""
    parts = [v[:, None] if v.dtype.kind == "f" else _one_hot(v) for v in columns.values()]
    return np.concatenate(parts, axis=1)


def _classes(values: np.ndarray) -> np.ndarray:
    return np.unique(np.asarray(values).astype(str), return_inverse=True)[1]


def load_table(name: str) -> Table:
    """The labelled table behind dataset ``name`` (see the module docstring)."""
    from sklearn import datasets

    bundled = {"breast cancer": datasets.load_breast_cancer, "wine": datasets.load_wine,
               "digits": datasets.load_digits, "iris": datasets.load_iris}  # fmt: skip
    if name in bundled:
        data = bundled[name]()
        anomaly = {"breast cancer": (0,), "digits": ()}.get(name, (0, 1, 2))
        return Table(data.data.astype(np.float64), data.target, anomaly)
    if name == "penguins":
        c = _read_csv("penguins")
        x = np.stack([c[k] for k in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm",
                                     "body_mass_g")], axis=1)  # fmt: skip
        keep = ~np.isnan(x).any(1)
        return Table(x[keep], _classes(c["species"][keep]), (0, 1, 2))
    if name == "diamonds":
        c = _read_csv("diamonds")
        x = np.stack([c[k] for k in ("carat", "depth", "table", "price", "x", "y", "z")], 1)
        return Table(x, (c["cut"] == "Fair").astype(np.int64), (1,))
    if name == "titanic":
        c = _read_csv("titanic")
        x = np.stack([c[k] for k in ("pclass", "age", "sibsp", "parch", "fare")], axis=1)
        keep = ~np.isnan(x).any(1)
        return Table(x[keep], c["survived"][keep].astype(np.int64), (1,))
    if name == "german credit":
        c = _read_csv("german_credit")
        bad = (c.pop("class") == "bad").astype(np.int64)
        return Table(_features(c), bad, (1,))
    if name == "adult":
        c = _read_csv("adult")
        rich = (c.pop("income") == ">50K").astype(np.int64)
        c.pop("split")
        return Table(_features(c), rich, (1,))
    raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}.")


def tasks_of(name: str, seed: int, quick: bool = False) -> list[Task]:
    """The tasks of dataset ``name`` for one seed (``quick``: the first one or two)."""
    table = load_table(name)
    rng = np.random.default_rng(seed)
    if not table.anomaly_classes:  # digits: each class in turn is the normal one
        normal_classes = [0, 1] if quick else range(10)
        return [
            make_task(table.x, np.flatnonzero(table.classes == c),
                      np.flatnonzero(table.classes != c), 0.10, rng)
            for c in normal_classes
        ]  # fmt: skip
    classes = table.anomaly_classes[:1] if quick else table.anomaly_classes
    return [
        make_task(table.x, np.flatnonzero(table.classes != c),
                  np.flatnonzero(table.classes == c), FRACTION, rng)
        for c in classes
    ]  # fmt: skip
