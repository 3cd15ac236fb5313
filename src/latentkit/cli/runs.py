"""What the subcommands share: opening a run folder, loading data the way the run was trained,
and writing outputs in the format the file extension names.

A run folder holds the model (``config.json`` + ``model.safetensors``) and, for tables,
``preprocessing.json`` with the standardisation fitted on the training data, so that new data
is scaled exactly as during training. ``latentkit train`` writes it before the first epoch; a
training run (checkpoints, metrics or a train config) without it is refused when a table is
loaded for it, rather than fed unscaled rows (a run killed before the file existed).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from latentkit.cli.main import UsageError

__all__ = [
    "IMAGE_SUFFIXES",
    "PREPROCESSING_FILE",
    "labels_for",
    "load_data_for",
    "open_run",
    "run_schema",
    "write_images",
    "write_table",
]

PREPROCESSING_FILE = "preprocessing.json"
IMAGE_SUFFIXES = (".png",)
ARRAY_SUFFIXES = (".npy", ".csv", ".parquet")


def open_run(path: str) -> Any:
    """The model of a run folder (or a saved model folder), in eval mode."""
    import latentkit
    from latentkit import zoo
    from latentkit.errors import CheckpointError

    folder = Path(path)
    if not folder.exists():
        raise UsageError(
            f"run folder {folder} does not exist and is not a pretrained model (train one "
            f"with 'latentkit train', or use one of: {', '.join(zoo.names())})"
        )
    try:
        return latentkit.load(folder)
    except CheckpointError as exc:
        raise CheckpointError(f"cannot open the run: {exc}") from exc


def read_preprocessing(run: str) -> dict[str, Any]:
    """The run's ``preprocessing.json`` (empty when the run has none)."""
    from latentkit.config import read_json
    from latentkit.errors import CheckpointError

    path = Path(run) / PREPROCESSING_FILE
    if not path.exists():
        return {}
    document = read_json(path, error=CheckpointError)
    if not isinstance(document, dict):
        raise CheckpointError(f"{path}: expected a JSON object.")
    return document


def write_preprocessing(run: str, document: dict[str, Any]) -> None:
    """Write ``preprocessing.json`` into the run folder (atomically)."""
    from latentkit.config import write_json

    write_json(Path(run) / PREPROCESSING_FILE, document)


def load_data_for(
    model: Any,
    data: str | None,
    split: str | None,
    run: str,
    *,
    limit: int | None = None,
    options: dict[str, Any] | None = None,
    columns: dict[str, Any] | None = None,
):
    """Load ``data`` (or the run's own dataset) shaped and scaled for ``model``.

    ``options`` are passed to :func:`latentkit.datasets.load` (e.g. ``download=False``). A
    table file is read through :func:`latentkit.data.columns.load_columns`: the columns the
    run recorded in ``preprocessing.json`` (its features in its order, its label), with
    ``columns`` (``label``, ``features``, ``drop``: the command's flags) on top."""
    from latentkit.cli.inputs import read_data
    from latentkit.data.transforms import scaler_from_dict
    from latentkit.errors import CheckpointError, DataError

    prep = read_preprocessing(run)
    name = data or prep.get("data")
    if not name:
        raise UsageError("--data is required (this run does not record its dataset)")
    if not isinstance(name, str):
        raise CheckpointError(
            f"{Path(run) / PREPROCESSING_FILE}: 'data' must be a dataset name or path, got "
            f"{name!r:.60}; pass --data."
        )
    if split is None:  # named datasets: their test split; files and folders: all their rows
        from latentkit.data.sources import evaluation_split

        split = evaluation_split(name)
    chosen = {key: value for key, value in (columns or {}).items() if value is not None}
    if model.capabilities.sequence:  # the run's column of strings as token ids
        from latentkit.cli.sequence_data import sequence_dataset

        dataset = sequence_dataset(model, run, name)
    elif _is_table_file(name):
        dataset = _load_table_for(name, split, prep, run, chosen, options or {})
    elif chosen:
        raise UsageError(f"--{', --'.join(chosen)}: only for table files, and {name} is not one")
    else:  # dataset names, image files and folders: the one input layer (cli.inputs)
        dataset = read_data(name, split, options=options, shape=tuple(model.input_shape))
    if limit is not None:
        dataset = dataset.subset(slice(0, limit))
    if dataset.shape != tuple(model.input_shape):
        raise DataError(
            f"{name}: samples have shape {dataset.shape} but the model expects "
            f"{tuple(model.input_shape)}; use data of the shape it was trained on."
        )
    missing = not (Path(run) / PREPROCESSING_FILE).exists()
    if not dataset.is_image and missing and _written_by_the_trainer(Path(run), model):
        raise CheckpointError(
            f"{run} has no {PREPROCESSING_FILE}, so how its table was scaled for training is "
            "unknown (the run was stopped before writing it); finish it with 'latentkit train "
            f"... --out {run} --resume', or write the file (the 'data' and the 'scaler' the "
            "model was trained with; without a scaler, rows are used as they are)."
        )
    if prep.get("scaler"):
        try:
            scaler = scaler_from_dict(prep["scaler"])
            dataset.x = scaler.transform(dataset.x).contiguous()
        except (ValueError, TypeError, KeyError, RuntimeError) as exc:
            raise CheckpointError(
                f"{Path(run) / PREPROCESSING_FILE}: its 'scaler' is malformed ({exc}); "
                "retrain the run or restore the file."
            ) from exc
    return dataset


def _is_table_file(name: str) -> bool:
    from latentkit.data.columns import is_table_file

    return is_table_file(name)


def _load_table_for(
    name: str, split: str, prep: dict, run: str, chosen: dict[str, Any], options: dict
) -> Any:
    """A table file's columns as the run recorded them (all columns for older runs)."""
    from latentkit.data.columns import ColumnRecord, load_columns

    recorded = prep.get("columns")
    where = str(Path(run) / PREPROCESSING_FILE)
    record = None if recorded is None else ColumnRecord.from_dict(recorded, where)
    if "schema" in prep:  # a mixed table: the run's schema encodes the file
        from latentkit.data.mixed import load_mixed

        schema = run_schema(run, prep)
        return load_mixed(name, schema=schema, record=record, **chosen)
    return load_columns(name, split, record=record, **chosen, **options)


def run_schema(run: str, prep: dict[str, Any] | None = None) -> Any:
    """The :class:`~latentkit.data.schema.TableSchema` a run of a mixed table recorded."""
    from latentkit.data.schema import TableSchema

    prep = read_preprocessing(run) if prep is None else prep
    if "schema" not in prep:
        raise UsageError(
            f"{run} was not trained on a mixed table (its {PREPROCESSING_FILE} has no "
            "'schema'); train one with 'latentkit train --data FILE.csv'"
        )
    return TableSchema.from_dict(prep["schema"], str(Path(run) / PREPROCESSING_FILE))


def _written_by_the_trainer(folder: Path, model: Any) -> bool:
    """The folder is a training run (checkpoints, metrics or a train config), not a bare
    model folder from ``model.save``."""
    metadata = model.metadata
    return (
        (folder / "checkpoints").is_dir()
        or (folder / "metrics.jsonl").exists()
        or (isinstance(metadata, dict) and "train_config" in metadata)
    )


def labels_for(model: Any, data: Any) -> Any:
    """The labels to pass to ``model``: ``data.y`` for conditional models, else None."""
    if not model.capabilities.conditional:
        return None
    if data.y is None:
        raise UsageError(
            f"this {model.model_type} needs a label for every sample, but {data.name} has no "
            "labels; use labelled data (e.g. the dataset it was trained on)"
        )
    return data.y


def _check_suffix(path: str, allowed: tuple[str, ...]) -> Path:
    out = Path(path)
    if out.suffix.lower() not in allowed:
        raise UsageError(
            f"cannot write {out.name}: the extension must be one of {', '.join(allowed)}"
        )
    return out


def write_table(
    path: str, values: np.ndarray, columns: list[str], *, text: dict[str, list[str]] | None = None
) -> Path:
    """Write a 2-D array as ``.npy``, ``.csv`` or ``.parquet`` (chosen by the extension).

    ``text`` columns follow the numbers in CSV and Parquet; ``.npy`` holds the numbers only."""
    from latentkit._io import atomic_path

    out = _check_suffix(path, ARRAY_SUFFIXES)
    values = np.asarray(values)
    with atomic_path(out) as tmp:
        if out.suffix.lower() == ".npy":
            with open(tmp, "wb") as fh:
                np.save(fh, values)
        else:
            import pyarrow as pa

            table = pa.table({name: values[:, i] for i, name in enumerate(columns)} | (text or {}))
            if out.suffix.lower() == ".csv":
                import pyarrow.csv as pacsv

                pacsv.write_csv(table, str(tmp))
            else:
                import pyarrow.parquet as pq

                pq.write_table(table, str(tmp))
    return out


def write_images(path: str, images: Any, *, nrow: int = 8, title: str | None = None) -> Path:
    """Write images ``(N, C, H, W)`` as a PNG grid, or the raw array as ``.npy``."""
    from latentkit._io import atomic_write_bytes

    out = _check_suffix(path, (*IMAGE_SUFFIXES, ".npy"))
    array = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images)
    if out.suffix.lower() == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, array)
        atomic_write_bytes(out, buffer.getvalue())
        return out
    if array.ndim != 4:
        raise UsageError(
            f"cannot draw data of shape {array.shape[1:]} as images; write .npy instead"
        )
    from latentkit.viz.grids import figure_to_png_bytes
    from latentkit.viz.plots import plot_image_grid

    fig = plot_image_grid(array, nrow=nrow, title=title or "")
    atomic_write_bytes(out, figure_to_png_bytes(fig))
    return out
