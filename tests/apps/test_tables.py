"""Synthetic rows and MIWAE imputation of a mixed table: shapes, dtypes, categories, observed
values kept, importance weights normalised, conditions honoured, and imputations that use the
other columns (better than the column mean / most frequent level on a table whose columns
determine each other)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from latentkit.apps.impute import importance_weights, impute
from latentkit.apps.synthesize import synthesize
from latentkit.sklearn import MixedTableVAE


def linked_table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """x, 2x + noise, the sign of x as a word, and a three-level bucket of x."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "x": x,
        "y": 2 * x + 0.1 * rng.normal(size=n),
        "sign": np.where(x > 0, "pos", "neg"),
        "bucket": pd.Categorical(np.digitize(x, [-0.5, 0.5]).astype(str)),
    })  # fmt: skip


@pytest.fixture(scope="module")
def fitted() -> MixedTableVAE:
    return MixedTableVAE(epochs=60, random_state=0).fit(linked_table())


def test_weights_are_normalised_and_observed_values_kept(fitted) -> None:
    frame = linked_table(50, seed=1)
    codes = torch.from_numpy(fitted.schema_.encode(frame))
    codes[::3, 0] = float("nan")
    codes[1::4, 2] = float("nan")
    _, w = importance_weights(fitted.model_, codes, 16, torch.Generator().manual_seed(0))
    assert w.shape == (16, 50)
    assert torch.allclose(w.sum(0), torch.ones(50))
    filled = impute(fitted.model_, codes, k=16, schema=fitted.schema_)
    assert not torch.isnan(filled).any()
    observed = ~torch.isnan(codes)
    assert torch.equal(filled[observed], codes[observed])
    many = impute(fitted.model_, codes, k=16, draws=3, generator=torch.Generator().manual_seed(0))
    assert many.shape == (3, 50, 4)
    assert torch.equal(many[:, observed], codes[observed].expand(3, -1))


def test_imputation_uses_the_other_columns(fitted) -> None:
    truth = linked_table(300, seed=2)
    holey = truth.copy()
    holey.loc[::2, "y"] = np.nan
    holey.loc[1::2, "sign"] = np.nan
    filled = fitted.impute(holey, k=50)
    assert filled.notna().all().all()
    assert list(filled.columns) == list(truth.columns)
    pd.testing.assert_series_equal(filled["x"], truth["x"])  # observed: unchanged
    gaps = holey["y"].isna()
    rmse = np.sqrt(((filled["y"][gaps] - truth["y"][gaps]) ** 2).mean())
    assert rmse < 0.5 * truth["y"].std()  # the column mean would give about 1 std
    gaps = holey["sign"].isna()
    assert (filled["sign"][gaps] == truth["sign"][gaps]).mean() > 0.8  # majority: about 0.5
    draws = fitted.impute(holey, k=50, draws=2)
    assert len(draws) == 2 and all(d.notna().all().all() for d in draws)


def test_synthetic_rows_keep_columns_types_and_categories(fitted) -> None:
    rows = fitted.sample(400)
    assert list(rows.columns) == ["x", "y", "sign", "bucket"]
    assert rows["x"].dtype == np.float64 and rows["sign"].dtype == object
    assert set(rows["sign"]) <= {"neg", "pos"} and set(rows["bucket"]) <= {"0", "1", "2"}
    # the link is learned (independent columns: 0), weakened by the decoder noise of each column
    assert np.corrcoef(rows["x"], rows["y"])[0, 1] > 0.5
    assert ((rows["x"] > 0) == (rows["sign"] == "pos")).mean() > 0.65  # independent: 0.5


def test_conditions_are_drawn_by_rejection_and_checked(fitted) -> None:
    rows = fitted.sample(50, where={"sign": "pos"})
    assert len(rows) == 50 and (rows["sign"] == "pos").all()
    assert (rows["x"] > 0).mean() > 0.8
    with pytest.raises(ValueError, match="not a level of 'sign'"):
        fitted.sample(5, where={"sign": "zero"})
    with pytest.raises(ValueError, match="number column"):
        fitted.sample(5, where={"x": "1"})
    with pytest.raises(ValueError, match="no column"):
        fitted.sample(5, where={"nope": "1"})
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="too rarely"):
        synthesize(fitted.model_, fitted.schema_, 50_000, where={"sign": "pos"}, generator=g,
                   min_rate=0.99)  # about half the draws are "pos"  # fmt: skip


def test_pandas_input_with_object_and_category_columns(fitted) -> None:
    frame = linked_table(20, seed=3)
    assert fitted.transform(frame).shape == (20, fitted.model_.latent_dim)
    scores = fitted.score_samples(frame)
    assert scores.shape == (20,) and np.isfinite(scores).all()
    odd = frame.copy()
    odd.loc[0, "x"] = 40.0  # far outside the training values
    odd.loc[0, "sign"] = "neg"
    assert fitted.score_samples(odd)[0] < np.median(scores)
    assert fitted.feature_names_in_.tolist() == ["x", "y", "sign", "bucket"]


def test_the_estimators_take_mixed_dataframes() -> None:
    from latentkit.sklearn import (
        AutoencoderTransformer,
        SemiSupervisedVAEClassifier,
        VAEOutlierDetector,
    )

    frame = linked_table(200, seed=4)
    frame.loc[::9, "y"] = np.nan
    reducer = AutoencoderTransformer(latent_dim=2, epochs=3, random_state=0).fit(frame)
    assert reducer.schema_ is not None and reducer.scaler_ is None
    assert reducer.model_.model_type == "tabular_vae"
    z = reducer.transform(frame)
    assert z.shape == (200, 2) and np.isfinite(z).all()
    back = reducer.inverse_transform(z)
    assert list(back.columns) == ["x", "y", "sign", "bucket"] and set(back["sign"]) <= {
        "neg",
        "pos",
    }
    assert np.isfinite(reducer.score_samples(frame)).all()
    for method in ("elbo", "reconstruction"):
        detector = VAEOutlierDetector(method=method, epochs=3, random_state=0).fit(frame)
        assert np.isfinite(detector.score_samples(frame)).all()
        assert set(detector.predict(frame)) <= {-1, 1}
    with pytest.raises(ValueError, match="use model='vae'"):
        AutoencoderTransformer(model="autoencoder", epochs=1).fit(frame)
    with pytest.raises(ValueError, match="numbers only"):
        SemiSupervisedVAEClassifier(epochs=1).fit(frame, np.arange(200) % 2)
    numbers = frame[["x"]].fillna(0.0)  # numbers only: standardised as before
    assert AutoencoderTransformer(latent_dim=1, epochs=1).fit(numbers).schema_ is None


def test_chunks_shrink_with_k_and_rows_do_not_interact(fitted, monkeypatch) -> None:
    import latentkit.apps.impute as impute_module

    model, p = fitted.model_, fitted.model_.likelihood.n_params
    assert impute_module.chunk_rows(1, p) == 512
    assert impute_module.chunk_rows(100_000, p) * 100_000 * p <= impute_module.CHUNK_FLOATS
    assert impute_module.chunk_rows(10**9, p) == 1
    codes = torch.from_numpy(fitted.schema_.encode(linked_table(20, seed=3)))
    codes[::2, 1] = float("nan")
    codes[1::2, 2] = float("nan")
    monkeypatch.setattr(impute_module, "CHUNK_FLOATS", 64 * p * 7)  # k = 64: 7 rows a chunk
    seen, decode = [], model.decoder_params
    monkeypatch.setattr(model, "decoder_params", lambda z: seen.append(len(z)) or decode(z))
    for draws in (0, 2):
        g = torch.Generator().manual_seed(0)
        chunked = impute(model, codes, k=64, draws=draws, schema=fitted.schema_, generator=g)
        assert seen == [64 * 7, 64 * 7, 64 * 6]
        seen.clear()
        # the same as imputing each chunk's rows alone, drawing from the same stream
        g = torch.Generator().manual_seed(0)
        alone = [
            impute(model, codes[s : s + 7], k=64, draws=draws, schema=fitted.schema_, generator=g)
            for s in (0, 7, 14)
        ]
        assert torch.equal(chunked, torch.cat(alone, dim=-2))
        seen.clear()
