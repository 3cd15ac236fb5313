"""Every subcommand's own flags, fuzzed on real run folders: exit status 0 or 2, a one-line
error on 2, never a traceback.

The flags and their kinds are read from the parser itself (so a new flag is fuzzed without
editing this file): counts, seeds and numbers get hostile spellings (negative, zero, NaN,
infinities, 2^64, non-ASCII digits, words) next to small valid values; choices get their
valid values and a bogus one; paths and names get plausible and hostile strings. Valid
counts in the pool are small, so commands that accept them finish quickly. ``serve`` (which
blocks) and ``demo`` (which trains for minutes) are covered by their own tests.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latentkit.cli.main import SUBCOMMANDS, build_parser, main

FUZZ = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
NUMBERS = ["-1", "0", "1", "2", "99", "0.5", "nan", "inf", "-inf", "1e999", "18446744073709551616",
           "²", "x", "", " 3", "1_0"]  # fmt: skip
STRINGS = {
    "data": ["digits", "nowhere.csv", "", "../x", "mnist"],
    "split": ["train", "test", "bogus", ""],
    "pairs": ["0:1", "1:0", "x:y", "-1:0", "0:99999", "²:1", "0:1:2"],
    "root": ["nowhere", ""],
    "config": ["nowhere.json", "cfg.json"],
    "model": ["ae", "vae", "bogus", ""],
    "corruption": ["gaussian:0.1", "gaussian:x", "bogus:1", "salt_pepper:2", ":"],
}
OUTS = ["o.png", "o.npy", "o.csv", "o.html", "o.txt", "sub/o.png", ""]
SKIPPED = {"serve", "demo", "train"}  # serve blocks, demo trains; train: its own test below


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def flag_values(action: argparse.Action) -> list[str | None]:
    """What to try for one optional flag (None: the flag alone)."""
    if action.nargs == 0:
        return [None]
    if action.choices is not None:
        return [*map(str, action.choices), "bogus"]
    if getattr(action.type, "__name__", "") in ("count", "seed", "number", "fraction"):
        return NUMBERS
    if action.dest == "out":
        return OUTS
    return STRINGS.get(action.dest, ["x", ""])


def argv_strategy(command: str, run: str) -> st.SearchStrategy[list[str]]:
    parser = subparsers()[command]
    flags = [a for a in parser._actions if a.option_strings and a.dest not in ("help", "out")]

    def one(action: argparse.Action) -> st.SearchStrategy[list[str]]:
        name = action.option_strings[-1]
        values = st.sampled_from(flag_values(action))
        if action.nargs == 2:
            return st.tuples(values, values).map(lambda v: [name, *map(str, v)])
        return values.map(lambda v: [name] if v is None else [name, v])

    chosen = st.lists(st.sampled_from(flags).flatmap(one), max_size=4) if flags else st.just([])
    out = st.sampled_from(OUTS)
    return st.tuples(chosen, out).map(
        lambda t: [command, run, *[token for pair in t[0] for token in pair], "--out", t[1]]
    )


def run_cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A folder with a tiny autoencoder, VAE and conditional VAE trained on digits."""
    folder = tmp_path_factory.mktemp("fuzz")
    for name, model in (("ae", "ae"), ("vae", "vae"), ("cvae", "conditional_vae")):
        code, err = run_cli(["train", "--data", "digits", "--model", model, "--latent-dim",
                             "2", "--epochs", "1", "--out", str(folder / name)])  # fmt: skip
        assert code == 0, err
    (folder / "cfg.json").write_text('{"data": "digits"}')
    return folder


def check(argv: list[str]) -> None:
    code, err = run_cli(argv)
    assert code in (0, 2), (argv, err)
    if code == 2:
        assert err.startswith("error: ") and err.count("\n") == 1, (argv, err)
        assert "Traceback" not in err


def test_every_subcommand_is_fuzzed_or_named_here():
    assert set(subparsers()) == set(SUBCOMMANDS)
    assert set(SUBCOMMANDS) >= SKIPPED


COMMANDS = [c for c in SUBCOMMANDS if c not in SKIPPED | {"datasets"}]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("run", ["ae", "vae", "cvae"])
def test_flags_of_each_subcommand(runs, monkeypatch, command, run):
    monkeypatch.chdir(runs)

    @FUZZ
    @given(argv_strategy(command, run))
    def fuzz(argv: list[str]) -> None:
        check(argv)

    fuzz()


def test_train_flags(runs, monkeypatch):
    """train with hostile values; valid combinations train one epoch on digits."""
    monkeypatch.chdir(runs)
    parser = subparsers()["train"]
    flags = [a for a in parser._actions if a.option_strings and a.dest not in ("help", "out")]

    @FUZZ
    @given(st.lists(st.sampled_from(flags), min_size=1, max_size=3), st.data())
    def fuzz(actions: list[argparse.Action], data: st.DataObject) -> None:
        argv = ["train", "--data", "digits", "--epochs", "1", "--latent-dim", "2"]
        for action in actions:
            value = data.draw(st.sampled_from(flag_values(action)))
            argv += [action.option_strings[-1]] + ([] if value is None else [value])
        check([*argv, "--out", "trained"])

    fuzz()


def test_the_types_name_the_flag_the_value_and_the_range():
    for argv, expected in [
        (["generate", "r", "-n", "0", "--out", "o.png"], "-n: must be in [1, 100000], got 0"),
        (["generate", "r", "--temperature", "inf", "--out", "o.png"], "finite number"),
        (["evaluate", "r", "--seed", "18446744073709551616"], "a seed must be in [0, 4294967295]"),
        (["denoise", "r", "--sigma", "-1", "--out", "o.png"], "--sigma: must be a finite number"),
        (["inpaint", "r", "--fraction", "2", "--out", "o.png"], "[0, 1], got '2'"),
        (["generate", "r", "-n", "²", "--out", "o.png"], "expected a whole number, got '²'"),
        (["train", "--lr", "inf", "--out", "o"], "--lr: must be a finite number in (0, inf)"),
        (["anomaly", "r", "--contamination", "0.5", "--out", "o.csv"], "(0, 0.5)"),
    ]:
        code, err = run_cli(argv)
        assert code == 2 and expected in err and err.count("\n") == 1, (argv, err)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["anomaly", "vae", "--normal-class", "99", "--out", "s.csv"], "--normal-class 99"),
        (["report", "vae", "--points", "1", "--out", "r.html"], "--points: must be in [2,"),
        (["inpaint", "vae", "--size", "99", "--out", "i.png"], "--size 99 is larger"),
        (["generate", "vae", "--label", "3", "--out", "g.png"], "not conditioned on labels"),
        (["generate", "cvae", "--label", "99", "--out", "g.png"], "labels must be in [0, 10)"),
        (["interpolate", "vae", "--pairs", "0:99999", "--out", "i.png"], "indices must be in"),
        (["colorize", "vae", "--data", "", "--out", "c.png"], "--data is required"),
        (["denoise", "cvae", "--out", "d.png"], "needs a label for every image"),
    ],
)
def test_values_that_do_not_fit_the_run_or_its_data(runs, monkeypatch, argv, expected):
    monkeypatch.chdir(runs)
    code, err = run_cli(argv)
    assert code == 2 and expected in err and err.count("\n") == 1, (argv, err)
