"""Fuzzing configs and the command line; the error hierarchy; one-line errors vs ``--debug``.

Every config dict either builds or raises ConfigError; every argv returns 0 or 2 (or exits 0
for ``--help``/``--version``), never another exception. Commands run with the working
directory in a temporary folder and never reach a training loop (``--epochs 0`` is last).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import latentkit.errors as errors
from latentkit import VAEConfig
from latentkit.cli.main import main
from latentkit.config import Config
from latentkit.errors import ConfigError, LatentkitError
from latentkit.models.registry import MODELS, get_model_class
from latentkit.training import TrainConfig

REPO = Path(__file__).resolve().parents[2]
FUZZ = settings(
    max_examples=80,
    deadline=2000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def builds_or_refuses(cls: type[Config], data: object) -> Config | None:
    try:
        config = cls.from_dict(data)  # type: ignore[arg-type]
    except ConfigError as exc:
        assert str(exc).strip()
        return None
    assert cls.from_dict(config.to_dict()) == config  # what builds round-trips
    return config


# -- errors ---------------------------------------------------------------------------------


def test_error_hierarchy_is_complete() -> None:
    classes = [getattr(errors, name) for name in errors.__all__]
    assert {c.__name__ for c in classes} == {
        "LatentkitError", "DataError", "DownloadError", "ConfigError", "CheckpointError",
        "TrainingError",
    }  # fmt: skip
    for cls in classes:
        assert issubclass(cls, LatentkitError)
        if cls is not LatentkitError:  # and a builtin that callers catch by convention
            assert issubclass(cls, ValueError | RuntimeError)


# -- configs --------------------------------------------------------------------------------

FIELDS = {
    "latent_dim", "input_shape", "network", "likelihood", "beta", "epochs", "lr", "corruption",
    "batch_size", "seed", "hidden", "kind", "amount", "evil",
}  # fmt: skip


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(FIELDS)) | st.text(max_size=5), JSON, max_size=4))
def test_vae_and_train_configs_from_random_json(data: dict) -> None:
    builds_or_refuses(VAEConfig, {"input_shape": [4], **data})
    builds_or_refuses(VAEConfig, data)
    builds_or_refuses(TrainConfig, data)


@FUZZ
@given(model_type=st.sampled_from(sorted(MODELS)), key=st.text(max_size=12), value=JSON)
def test_every_model_config_with_one_field_replaced(model_type, key, value) -> None:
    model_class = get_model_class(model_type)
    cls = model_class.config_class
    # tables only: (C,) columns; sequences: (L,) token ids
    flat = model_class.capabilities.tabular or model_class.capabilities.sequence
    shape = [13] if flat else [1, 8, 8]
    valid = cls.from_dict({"input_shape": shape}).to_dict()
    field = sorted(valid)[hash(key) % len(valid)] if key else "latent_dim"
    builds_or_refuses(cls, {**valid, field: value})
    builds_or_refuses(cls, {**valid, key: value})


@FUZZ
@given(JSON)
def test_non_object_configs_are_refused(value) -> None:
    if not isinstance(value, dict):
        with pytest.raises(ConfigError, match="expected a JSON object"):
            TrainConfig.from_dict(value)


# -- the command line -----------------------------------------------------------------------

COMMANDS = ["train", "evaluate", "encode", "generate", "reconstruct", "anomaly", "report",
            "datasets", "inpaint"]  # fmt: skip
TOKENS = [
    "--help", "--bogus", "-n", "-1", "0", "nan", "1e999", "x", "--out", "out.npy", "out.png",
    "--data", "digits", "nowhere.csv", "--config", "cfg.json", "run", "bad-run", "--seed",
    "--lr", "--latent-dim", "99999999999999999999", "--model", "../../x", "--resume", "--json",
    "--val-fraction", "--corruption", "gaussian:x", "--split", "--", "ä", "",
]  # fmt: skip


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg.json").write_text('{"data": "digits", "evil": 1}')
    (tmp_path / "bad-run").mkdir()
    (tmp_path / "bad-run" / "config.json").write_text('{"model_type": "vae", "config": []}')
    return tmp_path


def run_cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:  # --help and --version only
            assert exc.code == 0, argv
            code = 0
    return code, err.getvalue()


@FUZZ
@given(command=st.sampled_from(COMMANDS), tokens=st.lists(st.sampled_from(TOKENS), max_size=6))
def test_random_argv_returns_0_or_2(workdir, command, tokens) -> None:
    argv = [command, *tokens]
    if command == "train":
        argv += ["--out", "trained", "--epochs", "0"]  # never reaches the loop
    code, err = run_cli(argv)
    assert code in (0, 2), (argv, err)
    if code == 2:
        assert err.startswith("error: ") and err.count("\n") == 1, (argv, err)
    assert sorted(p.name for p in workdir.iterdir()) == ["bad-run", "cfg.json"], argv


def test_debug_shows_a_traceback_and_no_debug_one_line(workdir) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}
    argv = [sys.executable, "-m", "latentkit", "evaluate", "bad-run"]
    plain = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 2
    assert plain.stderr.count("\n") == 1 and "Traceback" not in plain.stderr
    assert "bad-run" in plain.stderr and "expected" in plain.stderr
    debug = subprocess.run([*argv[:3], "--debug", *argv[3:]], env=env, capture_output=True,
                           text=True, timeout=120)  # fmt: skip
    assert debug.returncode != 0
    assert "Traceback (most recent call last)" in debug.stderr
    assert "CheckpointError" in debug.stderr


# -- a real run folder, tampered ------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    code, err = run_cli(["train", "--data", "digits", "--model", "ae", "--latent-dim", "2",
                         "--epochs", "1", "--device", "cpu", "--out", str(out)])  # fmt: skip
    assert code == 0, err
    return out


def tampered(original: Path, target: Path, file: str, edit) -> Path:
    import shutil

    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(original, target)
    path = target / file
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    return target


@FUZZ
@given(
    file=st.sampled_from(["preprocessing.json", "config.json"]),
    key=st.sampled_from(["data", "scaler", "extra", "model_type", "config", "format_version"]),
    value=JSON,
)
def test_commands_on_a_tampered_run_fail_in_one_line(trained_run, tmp_path, file, key, value):
    run = tampered(trained_run, tmp_path / "t", file, lambda d: d.__setitem__(key, value))
    if key == "data" and value not in (None, "", "digits"):
        value = "nowhere.csv"  # never point the fuzzer at real files
        tampered(trained_run, run, file, lambda d: d.__setitem__(key, value))
    code, err = run_cli(["encode", str(run), "--out", str(tmp_path / "codes.npy")])
    assert code in (0, 2), err
    if code == 2:
        assert err.count("\n") == 1, err


@pytest.mark.parametrize("content", [b'{"epoch": 1\n', b"[1, 2]\n", b"\xff\xfe\n", b"[" * 100_000])
def test_corrupt_metrics_file_is_a_data_error(tmp_path, content):
    from latentkit.errors import DataError
    from latentkit.viz.charts import read_metrics

    (tmp_path / "metrics.jsonl").write_bytes(content)
    with pytest.raises(DataError, match=r"metrics\.jsonl"):
        read_metrics(tmp_path / "metrics.jsonl")


def test_a_torn_last_append_is_left_out_of_metrics(tmp_path):
    from latentkit.viz.charts import read_metrics

    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"epoch": 1, "train_loss": 2.5}\n{"epoch": 2, "train_lo')
    assert read_metrics(path) == [{"epoch": 1, "train_loss": 2.5}]
    path.write_bytes(b'{"epoch": 1}\n{"epoch": 2}')  # complete, only the newline missing
    assert read_metrics(path) == [{"epoch": 1}, {"epoch": 2}]
