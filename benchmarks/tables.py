"""Mixed tables: synthetic data and imputation, latentkit's TabularVAE against SDV and sklearn.

Tables (``$LATENTKIT_DATA/tables``, see its README): Adult, German credit, penguins, diamonds,
Titanic. Each table is split once (seeded) into training rows and held-out real rows; the
big tables are subsampled (``--max-train`` training rows, ``--max-test`` held-out rows), and
every method gets the same rows. Column kinds come from latentkit's schema inference (no
per-table settings) and are handed to SDV as its metadata, so every synthesizer sees the same
types. Adult's ``split`` column (the UCI file of origin) is dropped.

Synthesis (each method fitted on the training rows, then as many rows sampled):

- latentkit ``MixedTableVAE()`` (sklearn interface of ``tabular_vae``) with its defaults;
- SDV 2.0 ``TVAESynthesizer``, ``CTGANSynthesizer`` (both ``epochs=--sdv-epochs``, the CPU
  budget; their default is 300) and ``GaussianCopulaSynthesizer`` (defaults);
- scores: sdmetrics' ``QualityReport`` (overall score, Column Shapes, Column Pair Trends);
  machine-learning efficacy: ``HistGradientBoosting{Classifier,Regressor}`` (defaults,
  categories as native categorical features) trained on the synthetic rows and tested on the
  held-out real rows (accuracy, or R^2 for diamonds' price), beside the same model trained on
  the real training rows; DCR: the median distance of a synthetic row to its closest real
  training row (numbers standardised, categories one-hot / sqrt(2)), beside the held-out real
  rows' own median DCR (a copy of the training rows would score 0).

Imputation (``--impute-rows`` training rows per table, a share of all values removed
completely at random, each imputer fitted on the incomplete rows themselves, as in MIWAE):

- latentkit ``MixedTableVAE(iwae_samples=5)`` (MIWAE's importance-weighted objective, chosen
  for imputation on a validation split of German credit's training rows: RMSE 0.83 against
  0.94 with the ELBO) trained on the rows with gaps, then ``impute`` (MIWAE, k=100);
- scikit-learn ``SimpleImputer`` (mean for numbers, most frequent level for categories),
  ``KNNImputer()`` and ``IterativeImputer()`` (BayesianRidge) on standardised numbers and
  one-hot categories (a category's imputation: its largest one-hot value), and a
  MissForest-style ``IterativeImputer(RandomForestRegressor(n_estimators=20), max_iter=5)`` on
  standardised numbers and ordinal category codes (rounded to a level);
- scores: RMSE over the removed numeric entries (in units of the column's standard deviation),
  accuracy over the removed binary and categorical entries.

Usage::

    python benchmarks/tables.py --threads 1
    python benchmarks/tables.py --quick      # seconds-long smoke test on penguins, writes nothing
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mnist import add_run_arguments, machine_line, write_section
from _results import markdown_table, print_table
from latentkit.models.registry import MIXED_TABLE_STEPS

SECTION = "Mixed tables: synthesis and imputation"
#: table -> (file, target column of the machine-learning efficacy task, columns to drop)
TABLES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "adult": ("adult.csv", "income", ("split",)),
    "german_credit": ("german_credit.csv", "class", ()),
    "penguins": ("penguins.csv", "species", ()),
    "diamonds": ("diamonds.csv", "price", ()),
    "titanic": ("titanic.csv", "survived", ()),
}
SYNTHESIZERS = ("latentkit", "TVAE", "CTGAN", "GaussianCopula")
IMPUTERS = ("latentkit", "Simple", "KNN", "Iterative", "MissForest")
CAVEATS = (
    "Caveats: one seed, and small held-out sets on the small tables (penguins 68 rows, "
    "German credit 200, Titanic 178: an accuracy moves by several points with the split); "
    "TVAE and CTGAN ran a third of their default epochs (the CPU budget), so they are "
    "weaker than with their defaults; imputation times include training the model on the "
    "incomplete rows (latentkit, about 3000 steps) or fitting the imputer."
)


def data_root() -> Path:
    root = Path(os.environ.get("LATENTKIT_DATA", "/work/shared/data")) / "tables"
    if not root.is_dir():
        raise SystemExit(f"no tables folder at {root}; set LATENTKIT_DATA")
    return root


def load(name: str, max_train: int, max_test: int, seed: int) -> tuple[Any, Any, Any]:
    """(train frame, held-out frame, schema): the same rows for every method."""
    from latentkit.data.schema import TableSchema, read_frame

    file, _, drop = TABLES[name]
    frame = read_frame(data_root() / file).drop(columns=list(drop))
    order = np.random.default_rng(seed).permutation(len(frame))
    n_test = min(max_test, len(frame) // 5)
    test = frame.iloc[order[:n_test]].reset_index(drop=True)
    train = frame.iloc[order[n_test : n_test + max_train]].reset_index(drop=True)
    # the column kinds and levels of the whole table: the held-out rows may hold levels that
    # the training rows lack (Adult's rarer countries)
    return train, test, TableSchema.infer(frame)


def sdv_metadata(schema: Any) -> dict[str, Any]:
    kinds = {"numeric": "numerical", "integer": "numerical", "binary": "categorical",
             "categorical": "categorical"}  # fmt: skip
    return {"columns": {c.name: {"sdtype": kinds[c.kind]} for c in schema.columns}}


def _sdv(kind: str, schema: Any, epochs: int, seed: int) -> Any:
    from sdv.metadata import Metadata
    from sdv.single_table import (
        CTGANSynthesizer,
        GaussianCopulaSynthesizer,
        TVAESynthesizer,
    )

    metadata = Metadata.load_from_dict({"tables": {"table": sdv_metadata(schema)}})
    torch.manual_seed(seed)  # SDV draws from the global generator
    if kind == "TVAE":
        return TVAESynthesizer(metadata, epochs=epochs, enable_gpu=False)
    if kind == "CTGAN":
        return CTGANSynthesizer(metadata, epochs=epochs, enable_gpu=False)
    return GaussianCopulaSynthesizer(metadata)


def synthesize(kind: str, train: Any, schema: Any, args: Any) -> tuple[Any, float, float]:
    """(synthetic rows, fit seconds, sampling seconds)."""
    from latentkit.sklearn import MixedTableVAE

    start = time.perf_counter()
    if kind == "latentkit":
        model = MixedTableVAE(random_state=args.seed, epochs=2 if args.quick else None)
        model.fit(train)
        fitted = time.perf_counter()
        rows = model.sample(len(train), random_state=args.seed)
    else:
        model = _sdv(kind, schema, args.sdv_epochs, args.seed)
        model.fit({"table": train})  # SDV 2.0: a dict of one table
        fitted = time.perf_counter()
        rows = model.sample(num_rows=len(train))["table"]
    done = time.perf_counter()
    return rows[list(train.columns)], fitted - start, done - fitted


# -- scores ------------------------------------------------------------------------------------
def quality(real: Any, synthetic: Any, schema: Any) -> tuple[float, float, float]:
    """sdmetrics QualityReport: (score, Column Shapes, Column Pair Trends)."""
    import warnings

    with warnings.catch_warnings():  # the single-table report is deprecated in favour of a
        warnings.simplefilter("ignore", FutureWarning)  # multi-table one; same scores
        from sdmetrics.reports.single_table import QualityReport

    report = QualityReport()
    report.generate(real, synthetic, sdv_metadata(schema), verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    return report.get_score(), float(props["Column Shapes"]), float(props["Column Pair Trends"])


def _hgb_frame(frame: Any, schema: Any, target: str) -> tuple[Any, Any]:
    import pandas as pd

    x = frame.drop(columns=[target]).copy()
    for spec in schema.columns:
        if spec.name != target and not spec.is_number:
            x[spec.name] = pd.Categorical(x[spec.name].astype("string"), categories=spec.levels)
    return x, frame[target]


def efficacy(train: Any, test: Any, schema: Any, target: str, seed: int) -> float:
    """Accuracy (categorical target) or R^2 (number) on ``test`` of a gradient-boosting model
    trained on ``train``."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    spec = schema.columns[schema.names.index(target)]
    x, y = _hgb_frame(train.dropna(subset=[target]), schema, target)
    xt, yt = _hgb_frame(test.dropna(subset=[target]), schema, target)
    if spec.is_number:
        model = HistGradientBoostingRegressor(categorical_features="from_dtype", random_state=seed)
        return float(model.fit(x, y).score(xt, yt))
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
    y, yt = y.astype(str), yt.astype(str)
    if y.nunique() < 2:
        return float((yt == y.iloc[0]).mean())
    return float(model.fit(x, y).score(xt, yt))


def _numeric_view(frame: Any, schema: Any, stats: dict, *, ordinal: bool = False) -> np.ndarray:
    """Standardised numbers and one-hot (or ordinal) categories, NaN where missing."""
    from latentkit.data.schema import TableSchema

    parts = []
    for spec in schema.columns:
        values = frame[spec.name]
        if spec.is_number:
            mean, std = stats[spec.name]
            parts.append(((values.astype(float) - mean) / std).to_numpy()[:, None])
            continue
        codes = TableSchema((spec,)).encode(frame[[spec.name]])[:, 0]
        if ordinal:
            parts.append(codes[:, None])
            continue
        one_hot = np.zeros((len(frame), spec.n_levels))
        ok = ~np.isnan(codes)
        one_hot[ok, codes[ok].astype(int)] = 1.0
        one_hot[~ok] = np.nan
        parts.append(one_hot / np.sqrt(2))
    return np.concatenate(parts, axis=1)


def dcr(synthetic: Any, train: Any, test: Any, schema: Any) -> tuple[float, float]:
    """Median distance to the closest training row: (synthetic rows, held-out real rows)."""
    from sklearn.neighbors import NearestNeighbors

    stats = _stats(train, schema)
    ref = np.nan_to_num(_numeric_view(train, schema, stats))
    index = NearestNeighbors(n_neighbors=1).fit(ref)
    out = []
    for frame in (synthetic, test):
        dist, _ = index.kneighbors(np.nan_to_num(_numeric_view(frame, schema, stats)))
        out.append(float(np.median(dist)))
    return out[0], out[1]


def _stats(frame: Any, schema: Any) -> dict[str, tuple[float, float]]:
    out = {}
    for spec in schema.columns:
        if spec.is_number:
            values = frame[spec.name].astype(float)
            out[spec.name] = (float(values.mean()), float(values.std()) or 1.0)
    return out


# -- imputation --------------------------------------------------------------------------------
def mcar(frame: Any, rate: float, seed: int) -> tuple[Any, np.ndarray]:
    """A copy with ``rate`` of the observed values removed at random, and the removal mask."""
    rng = np.random.default_rng(seed)
    removed = (rng.random(frame.shape) < rate) & frame.notna().to_numpy()
    return frame.mask(removed), removed


def _from_view(view: np.ndarray, like: Any, schema: Any, stats: dict, ordinal: bool) -> Any:
    """Undo :func:`_numeric_view`: a frame of imputed values."""
    import pandas as pd

    out, col = {}, 0
    for spec in schema.columns:
        if spec.is_number:
            mean, std = stats[spec.name]
            out[spec.name] = view[:, col] * std + mean
            col += 1
        elif ordinal:
            index = np.clip(np.round(view[:, col]), 0, spec.n_levels - 1).astype(int)
            out[spec.name] = np.asarray(spec.levels, dtype=object)[index]
            col += 1
        else:
            index = view[:, col : col + spec.n_levels].argmax(1)
            out[spec.name] = np.asarray(spec.levels, dtype=object)[index]
            col += spec.n_levels
    return pd.DataFrame(out, index=like.index)


def impute_with(kind: str, holey: Any, schema: Any, args: Any) -> tuple[Any, float]:
    """(completed frame, seconds)."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer

    from latentkit.sklearn import MixedTableVAE

    start = time.perf_counter()
    if kind == "latentkit":
        model = MixedTableVAE(
            iwae_samples=5, random_state=args.seed, epochs=2 if args.quick else None
        )
        filled = model.fit(holey).impute(holey, k=100, random_state=args.seed)
        return filled, time.perf_counter() - start
    stats = _stats(holey, schema)
    ordinal = kind == "MissForest"
    view = _numeric_view(holey, schema, stats, ordinal=ordinal)
    if kind == "Simple":
        filled = holey.copy()
        for spec in schema.columns:
            values = holey[spec.name]
            fill = values.mean() if spec.is_number else values.mode().iloc[0]
            filled[spec.name] = values.fillna(fill)
        return filled, time.perf_counter() - start
    if kind == "KNN":
        imputer = KNNImputer()
    elif kind == "Iterative":
        imputer = IterativeImputer(random_state=args.seed)
    else:
        forest = RandomForestRegressor(n_estimators=20, random_state=args.seed, n_jobs=1)
        imputer = IterativeImputer(estimator=forest, max_iter=5, random_state=args.seed)
    done = imputer.fit_transform(view)
    return _from_view(done, holey, schema, stats, ordinal), time.perf_counter() - start


def imputation_scores(
    truth: Any, filled: Any, removed: np.ndarray, schema: Any
) -> tuple[float, float]:
    """(RMSE over removed numbers in column standard deviations, accuracy over removed
    categories)."""
    stats = _stats(truth, schema)
    errors, hits = [], []
    for j, spec in enumerate(schema.columns):
        rows = removed[:, j]
        if not rows.any():
            continue
        true, got = truth[spec.name][rows], filled[spec.name][rows]
        if spec.is_number:
            std = stats[spec.name][1]
            errors.append(((true.astype(float) - got.astype(float)) / std).to_numpy())
        else:
            hits.append(true.astype(str).to_numpy() == got.astype(str).to_numpy())
    rmse = float(np.sqrt(np.mean(np.concatenate(errors) ** 2))) if errors else float("nan")
    accuracy = float(np.mean(np.concatenate(hits))) if hits else float("nan")
    return rmse, accuracy


# -- the run -----------------------------------------------------------------------------------
def run(args: Any) -> tuple[list[list[Any]], list[list[Any]], dict]:
    tables = ["penguins"] if args.quick else list(TABLES)
    synth_rows, impute_rows, facts = [], [], {}
    for name in tables:
        train, test, schema = load(name, args.max_train, args.max_test, args.seed)
        target = TABLES[name][1]
        real_score = efficacy(train, test, schema, target, args.seed)
        facts[name] = (len(train), len(test), real_score)
        for kind in SYNTHESIZERS:
            if args.quick and kind in ("CTGAN",):
                continue
            rows, fit_s, sample_s = synthesize(kind, train, schema, args)
            score, shapes, pairs = quality(train, rows, schema)
            ml = efficacy(rows, test, schema, target, args.seed)
            syn_dcr, real_dcr = dcr(rows, train, test, schema)
            synth_rows.append([name, kind, score, shapes, pairs, ml, real_score, syn_dcr,
                               real_dcr, fit_s, sample_s])  # fmt: skip
            print(f"{name} {kind}: quality {score:.3f} efficacy {ml:.3f} "
                  f"(real {real_score:.3f}) fit {fit_s:.0f}s", flush=True)  # fmt: skip
        sub = train.head(args.impute_rows).reset_index(drop=True)
        for rate in args.rates:
            holey, removed = mcar(sub, rate, args.seed)
            for kind in IMPUTERS:
                filled, seconds = impute_with(kind, holey, schema, args)
                rmse, acc = imputation_scores(sub, filled, removed, schema)
                impute_rows.append([name, f"{rate:.0%}", kind, rmse, acc, seconds])
                print(f"{name} {rate:.0%} {kind}: rmse {rmse:.3f} acc {acc:.3f} "
                      f"({seconds:.0f}s)", flush=True)  # fmt: skip
    return synth_rows, impute_rows, facts


def targets(synth: list[list[Any]], imputed: list[list[Any]]) -> list[str]:
    """One line per target of the issue: met or not, with the numbers."""
    lines = []
    by = {(r[0], r[1]): r for r in synth}
    tables = sorted({r[0] for r in synth})
    for what, col in (("quality score", 2), ("machine-learning efficacy", 5)):
        miss = [
            t
            for t in tables
            if (t, "TVAE") in by and by[(t, "latentkit")][col] <= by[(t, "TVAE")][col]
        ]
        verdict = "met" if not miss else f"not met on {', '.join(miss)}"
        lines.append(f"- latentkit above TVAE on the {what} on every table: {verdict}.")
    groups: dict[tuple[str, str], dict[str, list[float]]] = {}
    for name, rate, kind, rmse, acc, _ in imputed:
        groups.setdefault((name, rate), {})[kind] = [rmse, acc]
    rmse_miss, acc_miss = [], []
    for key, scores in groups.items():
        ours = scores["latentkit"]
        others = [v for k, v in scores.items() if k != "latentkit"]
        if not all(ours[0] < o[0] for o in others if not np.isnan(o[0])):
            rmse_miss.append(" ".join(key))
        if not all(ours[1] >= o[1] for o in others if not np.isnan(o[1])):
            acc_miss.append(" ".join(key))
    lines.append(
        "- imputation RMSE below every scikit-learn imputer: "
        + ("met." if not rmse_miss else f"not met on {', '.join(rmse_miss)}.")
    )
    lines.append(
        "- imputation accuracy at least every scikit-learn imputer's: "
        + ("met." if not acc_miss else f"not met on {', '.join(acc_miss)}.")
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, threads=1)
    parser.add_argument("--max-train", type=int, default=3000, help="training rows at most")
    parser.add_argument("--max-test", type=int, default=1000, help="held-out rows at most")
    parser.add_argument("--impute-rows", type=int, default=1000, help="rows of the imputation task")
    parser.add_argument("--sdv-epochs", type=int, default=100, help="TVAE and CTGAN epochs")
    parser.add_argument("--rates", type=float, nargs="+", default=[0.2, 0.5])
    args = parser.parse_args()
    if args.quick:
        args.max_train, args.max_test, args.impute_rows, args.sdv_epochs = 200, 100, 150, 2
        args.rates = [0.2]
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    synth, imputed, facts = run(args)
    wall = time.perf_counter() - start
    table_s = markdown_table(
        [
            "table",
            "method",
            "quality",
            "column shapes",
            "pair trends",
            "ML efficacy (synthetic)",
            "ML efficacy (real)",
            "DCR synthetic",
            "DCR held-out real",
            "fit s",
            "sample s",
        ],
        synth,
    )
    table_i = markdown_table(
        ["table", "removed (MCAR)", "imputer", "RMSE (std units)", "category accuracy", "seconds"],
        imputed,
    )
    print_table("Synthesis", table_s)
    print_table("Imputation", table_i)
    verdicts = targets(synth, imputed)
    print("\n".join(verdicts))
    if args.quick or args.no_write:
        return
    sizes = "; ".join(f"{k} {n} train / {m} held-out rows" for k, (n, m, _) in facts.items())
    notes = (
        f"{machine_line(args.threads)}; the machine was shared with other jobs (wall times are "
        f"indicative only). Seed {args.seed} for the splits, the MCAR masks and every method. "
        f"Whole run: {wall / 60:.1f} min.\n\nBudget (2 shared CPU cores): at most "
        f"{args.max_train} training and {args.max_test} held-out rows per table ({sizes}); "
        f"TVAE and CTGAN {args.sdv_epochs} epochs (SDV default 300); latentkit its defaults "
        f"(about {MIXED_TABLE_STEPS} steps, 10..200 epochs); imputation on the first "
        f"{args.impute_rows} training rows. ML efficacy: accuracy (adult, german_credit, "
        "penguins, titanic) or R^2 (diamonds' price) on the held-out real rows.\n\n"
        + "\n".join(verdicts)
        + "\n\n"
        + CAVEATS
    )
    write_section(args.results, SECTION, table_s + "\n\n" + table_i, notes)


if __name__ == "__main__":
    main()
