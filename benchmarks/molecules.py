"""Molecule generation with the sequence VAE on MOSES: SMILES and SELFIES side by side.

For each token kind a ``sequence_vae`` (bidirectional GRU encoder, GRU decoder, 56-D code) is
trained on the 250,000 MOSES training molecules of ``$LATENTKIT_DATA/smiles`` for a fixed
wall-clock budget per model (``--minutes``; the machine is shared, so the budget, the steps
made and the load are reported), then:

- 10,000 strings are sampled from the prior (tokens drawn at temperature 1) and measured as
  MOSES does (:func:`latentkit.apps.molecules.generation_metrics`): validity, unique@1k and
  @10k, novelty against the training molecules, internal diversity, and the Fréchet ChemNet
  distance of the valid samples to the whole MOSES test set (:mod:`_fcd`, the ``fcd``
  package);
- the codes of 1,000 MOSES test molecules are decoded greedily (exact reconstruction rate);
- property optimisation (Gómez-Bombarelli et al. 2018): an MLP predicts QED from the codes of
  10,000 training molecules (R^2 on 2,000 of them held out), gradient ascent on the prediction
  starts from the 20 best of the other 8,000 and the decoded molecules are scored by RDKit's
  QED; the best found is compared with the best QED among 10,000 training molecules.

Training is a time-budgeted loop over the model's loss (batches of 128 of similar lengths,
Adam 1e-3, gradient norm clipped at 5, KL annealed over 1,000 steps, free bits 0.1 nat per
dimension): the library's Trainer counts epochs, and the budget here is a few epochs at most.
No setting was tuned on the test set. They were fixed before the first run; the one check
since, on a validation split of the training molecules (2,000 held out, 3.5 minutes per
setting, 1 thread), found a 512-wide decoder worse per minute of training than the 256-wide one
(0.89 against 0.81 nats per token: half the steps), so 256 was kept. A second check, on 2,000
training molecules held out, 2,000 steps per setting: MOSES' own VAE setting (KL weight 0.05,
no free bits; more information in the codes) against the KL weight 1 with 0.1 free bits used
here gave prior-sample validity 0.18 against 0.61 (exact reconstruction 13% against 0%), so the
KL weight 1 was kept.

Usage::

    python benchmarks/molecules.py --minutes 45 --threads 1
    python benchmarks/molecules.py --quick          # smoke test, writes nothing
    python benchmarks/molecules.py --kinds smiles   # rerun one model, keep the other's rows

A run of some of the kinds keeps the rows of the other kinds already in RESULTS.md, marked
"earlier run" with the command and date that measured them (:func:`earlier_rows`).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _fcd import fcd, reference_statistics
from _results import RESULTS, markdown_table, print_table, update_results
from latentkit.apps.molecules import generation_metrics, properties, to_smiles
from latentkit.apps.sequences import (
    fit_property_predictor,
    optimise_property,
    sample_strings,
)
from latentkit.data.sequences import Tokenizer, read_strings, to_selfies
from latentkit.models.registry import create_model
from latentkit.models.sequence import SequenceVAEConfig

# the model's defaults: KL weight, free bits (nats per dimension), KL annealing steps
BETA, FREE_BITS, WARMUP = (
    SequenceVAEConfig.beta,
    SequenceVAEConfig.free_bits,
    SequenceVAEConfig.warmup_steps,
)
SECTION = "Molecule generation (MOSES, sequence VAE: SMILES vs SELFIES)"
MOSES = {  # Polykovskiy et al. 2020, Table 2 (trained on all 1.58M MOSES molecules)
    "MOSES VAE": (0.977, 1.0, 0.998, 0.695, 0.856),
    "MOSES CharRNN": (0.975, 1.0, 0.999, 0.842, 0.856),
}
MOSES_FCD = {"MOSES VAE": 0.099, "MOSES CharRNN": 0.073}  # the same table's FCD/Test


def data_folder() -> Path:
    root = os.environ.get("LATENTKIT_DATA") or str(
        Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    return Path(root) / "smiles"


def batches(ids: torch.Tensor, size: int, g: torch.Generator) -> list[torch.Tensor]:
    """Row indices in batches of similar lengths (sorted within chunks of 50 batches),
    the batch order shuffled: little padding, still random."""
    order = torch.randperm(len(ids), generator=g)
    lengths = (ids[order] != 0).sum(1)
    out = []
    chunk = 50 * size
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[lengths[start : start + chunk].argsort(stable=True)]
        out += list(part.split(size))
    return [out[i] for i in torch.randperm(len(out), generator=g).tolist()]


def train(
    model, ids: torch.Tensor, seconds: float, seed: int, clock: str = "wall"
) -> dict[str, float]:
    """Train until ``seconds`` have passed on ``clock``: ``"wall"`` (wall-clock time) or
    ``"cpu"`` (this process's CPU time, which a shared machine does not shrink)."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    now = time.process_time if clock == "cpu" else time.perf_counter
    step, seen, start, last = 0, 0, now(), []
    wall, cpu = time.perf_counter(), time.process_time()
    while True:
        for index in batches(ids, 128, g):
            out = model.loss(ids[index], step=step, generator=g)
            opt.zero_grad()
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            step, seen = step + 1, seen + len(index)
            last = [*last[-49:], (out.reconstruction.mean().item(), out.kl.mean().item())]
            if step % 200 == 0:
                rec, kl = (sum(v) / len(last) for v in zip(*last, strict=True))
                print(f"  step {step}: reconstruction {rec:.2f}, KL {kl:.2f} nats", flush=True)
            if now() - start > seconds:
                model.eval()
                return {
                    "steps": step,
                    "epochs": seen / len(ids),
                    "minutes": (time.perf_counter() - wall) / 60,
                    "cpu_minutes": (time.process_time() - cpu) / 60,
                }


def encodable(tokenizer: Tokenizer, strings: list[str], length: int) -> list[int]:
    """Rows of ``strings`` the tokenizer can encode within ``length`` ids."""
    rows = []
    for i, s in enumerate(strings):
        try:
            tokenizer.encode([s], length)
        except ValueError:
            continue
        rows.append(i)
    return rows


def run_kind(kind: str, smiles: list[str], test: list[str], known: set[str], args) -> dict:
    strings = to_selfies(smiles) if kind == "selfies" else smiles
    tokenizer = Tokenizer.fit(strings, kind)
    length = tokenizer.longest(strings)[1] + 1
    ids = tokenizer.encode(strings, length).float()
    size = (64, 32, 8) if args.quick else (256, 128, 32)
    model = create_model(
        "sequence_vae",
        (length,),
        seed=args.seed,
        tokens=list(tokenizer.tokens),
        token_kind=kind,
        latent_dim=56,
        embed_dim=size[2],
        encoder_hidden=size[1],
        decoder_hidden=size[0],
        warmup_steps=WARMUP,
        beta=args.beta,
        free_bits=args.free_bits,
    )
    print(
        f"{kind}: {len(tokenizer.tokens)} tokens, {length} ids, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters",
        flush=True,
    )
    result = {"kind": kind, "tokens": len(tokenizer.tokens)}
    result |= train(model, ids, 60 * args.minutes, args.seed, args.clock)
    g = torch.Generator().manual_seed(args.seed + 1)
    start = time.perf_counter()
    with torch.no_grad():
        generated = to_smiles(sample_strings(model, args.samples, generator=g), kind)
        result |= generation_metrics(generated, known, ks=args.ks)
        result["by_temperature"] = {
            t: generation_metrics(
                to_smiles(sample_strings(model, args.samples, temperature=t, generator=g), kind),
                known,
                ks=args.ks[-1:],
            )
            for t in args.temperatures
        }
        # FCD/Test: to the MOSES test set (its first --fcd-test molecules; 100 with --quick)
        reference = reference_statistics(data_folder() / "moses_test.csv", args.fcd_test)
        result["fcd"] = fcd(generated, reference)
        # exact reconstruction of test molecules from their posterior means (greedy decoding)
        test_strings = to_selfies(test) if kind == "selfies" else test
        rows = encodable(tokenizer, test_strings, length)
        x = tokenizer.encode([test_strings[i] for i in rows], length).float()
        decoded = tokenizer.decode(model.decode(model.encode(x)))
        result["test_recon"] = sum(
            a == test_strings[i] for a, i in zip(decoded, rows, strict=True)
        ) / len(test)
        q = model.posterior(x)
        result["test_kl"] = q.kl().mean().item()
        result["active_units"] = int((q.mean.var(0) > 0.01).sum())
    result |= optimise(model, tokenizer, smiles, length, args)
    result["eval_minutes"] = (time.perf_counter() - start) / 60
    return result


def qed(smiles: str) -> float | None:
    props = properties(smiles)
    return None if props is None else props["qed"]


def optimise(model, tokenizer, smiles, length, args) -> dict:
    n = 200 if args.quick else 10000
    g = torch.Generator().manual_seed(args.seed + 2)
    rows = torch.randperm(len(smiles), generator=g)[:n].tolist()
    chosen = [smiles[i] for i in rows]
    strings = to_selfies(chosen) if tokenizer.kind == "selfies" else chosen
    with torch.no_grad():
        codes = model.encode(tokenizer.encode(strings, length).float())
    values = torch.tensor([qed(s) for s in chosen])
    fit, held = slice(0, n - n // 5), slice(n - n // 5, n)
    predictor = fit_property_predictor(codes[fit], values[fit], generator=g)
    with torch.no_grad():
        residual = predictor(codes[held]) - values[held]
    r2 = 1 - residual.square().mean() / values[held].var(unbiased=False)
    top = values[fit].argsort(descending=True)[:20]
    found = optimise_property(model, predictor, codes[fit][top], qed, steps=100, lr=0.05)
    best = found[0] if found else None
    return {
        "qed_r2": float(r2),
        "qed_start_best": float(values[fit][top].max()),
        "qed_found": best.value if best else None,
        "qed_found_smiles": best.smiles if best else "",
        "qed_candidates": len(found),
    }


EARLIER = "earlier run"


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _value(cell: str) -> object:
    """A table cell back as the number it was written from (so it is written the same)."""
    if cell in ("True", "False"):
        return cell == "True"
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            pass
    return cell


def earlier_rows(path: Path, kinds: list[str]) -> tuple[list[list], list[list], str]:
    """Rows of the token kinds *not* in ``kinds`` from this script's section of ``path``.

    Returns the main-table rows and the optimisation-table rows (cells as written, the model
    cell marked "earlier run") and where they come from: the command and date of the run that
    measured them (carried over as it is when they were already marked). Empty when the file
    or the section is missing or holds no other kinds.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    found = re.search(rf"^## {re.escape(SECTION)}[ \t]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not found:
        return [], [], ""
    body = found.group(1)
    rows, opt_rows = [], []
    for line in body.splitlines():
        cells = _cells(line) if line.startswith("| ") else [""]
        kind = re.match(r"(latentkit sequence_vae \()?(SMILES|SELFIES)\b", cells[0])
        if not kind or kind.group(2).lower() in kinds:
            continue
        label = cells[0] if EARLIER in cells[0] else f"{cells[0]} ({EARLIER})"
        row = [label, *(_value(c) for c in cells[1:])]
        (rows if kind.group(1) else opt_rows).append(row)
    if not rows:
        return [], [], ""
    carried = re.search(r"^Earlier-run rows: (.*)$", body, re.M)
    if carried:
        return rows, opt_rows, carried.group(1)
    command = re.search(r"^Command: (`[^`]*`)", body, re.M)
    date = re.search(r"date: ([^,\n]*)", body)
    load = re.search(r"load average \(1 min\): ([^,\n]*)", body)
    source = (
        f"measured by {command.group(1) if command else 'an earlier command'} on "
        f"{date.group(1) if date else 'an earlier date'}"
        f"{f' (load average {load.group(1)})' if load else ''}, carried over unchanged."
    )
    return rows, opt_rows, source


def _kind(label: str) -> str:
    return re.search(r"\((SMILES|SELFIES)\)", label).group(1).lower()


def target_clause(kind: str, validity: float, unique: object, novelty: float) -> str:
    """The issue's targets for one model: validity (0.95 SMILES, 1.0 SELFIES), unique@10k
    >= 0.99, novelty >= 0.8, each said met or not met."""
    goal = 1.0 if kind == "selfies" else 0.95
    measured = isinstance(unique, int | float)
    return (
        f"{kind.upper()}: validity {validity:.3f} (target >= {goal:g}: "
        f"{'met' if validity >= goal else 'not met'}), unique@10k "
        f"{round(unique, 4) if measured else 'not measured (fewer valid samples than 10k)'}"
        f" (target >= 0.99: {'met' if measured and unique >= 0.99 else 'not met'}), novelty "
        f"{novelty:.3f} (target >= 0.8: {'met' if novelty >= 0.8 else 'not met'})"
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run: writes nothing")
    parser.add_argument("--minutes", type=float, default=20.0, help="training budget per model")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="what --minutes counts: wall-clock time or the process's CPU time (summed over "
        "its threads: with --threads 1, one core's time)",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--kinds", default="smiles,selfies")
    parser.add_argument(
        "--fcd-test",
        type=int,
        default=None,
        help="FCD against the first N MOSES test molecules (default: all 176,074, about 10 "
        "CPU-minutes of ChemNet)",
    )
    parser.add_argument("--beta", type=float, default=BETA, help="final KL weight")
    parser.add_argument(
        "--free-bits", type=float, default=FREE_BITS, help="nats per latent dimension"
    )
    parser.add_argument(
        "--temperatures",
        default="0.8,0.6",
        help="extra sampling temperatures measured beside MOSES' 1.0 (comma-separated)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--figures", type=Path, default=RESULTS.parent / "figures")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    args.ks = (1000, 10000)
    args.temperatures = [float(t) for t in args.temperatures.split(",") if t]
    if args.quick:
        args.minutes, args.samples, args.ks, args.fcd_test = 0.1, 200, (50, 100), 100
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    torch.set_num_threads(args.threads)
    wall = time.perf_counter()
    folder = data_folder()
    smiles = read_strings(folder / "moses_train_250k.csv", "smiles")
    test = read_strings(folder / "moses_test.csv", "smiles")
    if args.quick:
        smiles, test = smiles[:1000], test[:100]
    else:
        test = [
            test[i]
            for i in torch.randperm(len(test), generator=torch.Generator().manual_seed(args.seed))[
                :1000
            ].tolist()
        ]
    from latentkit.apps.molecules import canonical

    known = {c for s in smiles if (c := canonical(s))}  # novelty: against canonical SMILES
    g = torch.Generator().manual_seed(args.seed + 3)
    reference = [
        smiles[i]
        for i in torch.randperm(len(smiles), generator=g)[: 500 if args.quick else 10000].tolist()
    ]
    best_train = max(q for s in reference if (q := qed(s)) is not None)
    print(f"data ready in {(time.perf_counter() - wall) / 60:.1f} min", flush=True)
    results = [run_kind(kind, smiles, test, known, args) for kind in args.kinds.split(",")]
    k1, k2 = f"unique@{args.ks[0]}", f"unique@{args.ks[-1]}"
    rows = [
        [
            f"latentkit sequence_vae ({r['kind'].upper()})",
            r["validity"],
            r[k1],
            r[k2] if r[k2] is not None else "-",
            r["novelty"],
            r["int_div"],
            r["test_recon"],
            r["test_kl"],
            r["active_units"],
            r["steps"],
            r["epochs"],
            r["minutes"],
            r["cpu_minutes"],
            r["fcd"] if r.get("fcd") is not None else "-",
        ]
        for r in results
    ]
    rows += [[name, *values, *["-"] * 7, MOSES_FCD[name]] for name, values in MOSES.items()]
    headers = [
        "model",
        "validity",
        k1,
        k2,
        "novelty",
        "IntDiv",
        "test recon.",
        "test KL (nats)",
        "active units",
        "steps",
        "epochs",
        "train min",
        "train CPU min",
        "FCD/Test",
    ]
    kept, kept_opt, kept_source = earlier_rows(args.results, [r["kind"] for r in results])
    kept = [[*row, *["-"] * (len(headers) - len(row))] for row in kept]  # columns added since
    n_new = len(results)
    rows = [*rows[:n_new], *kept, *rows[n_new:]]
    table = markdown_table(headers, rows)
    opt_rows = [
        [
            r["kind"].upper(),
            r["qed_r2"],
            r["qed_start_best"],
            r["qed_found"] if r["qed_found"] is not None else "-",
            f"`{r['qed_found_smiles']}`",
            r["qed_found_smiles"] not in known,
            r["qed_candidates"],
            best_train,
        ]
        for r in results
    ] + kept_opt
    opt_table = markdown_table(
        [
            "model",
            "QED predictor R² (held out)",
            "best QED of the 20 starts",
            "best QED found",
            "molecule",
            "novel",
            "valid distinct decoded",
            "best QED, 10k training molecules",
        ],
        opt_rows,
    )
    temperature_table = markdown_table(
        ["temperature", "model", "validity", k2, "novelty", "IntDiv"],
        [  # the temperature first: earlier_rows carries rows that begin with a model name
            [
                t,
                r["kind"].upper(),
                m["validity"],
                m[k2] if m[k2] is not None else "-",
                m["novelty"],
                m["int_div"],
            ]
            for r in results
            for t, m in r["by_temperature"].items()
        ],
    )
    print_table(SECTION, table)
    print_table("Sampling temperature", temperature_table)
    print_table("Property optimisation (QED)", opt_table)
    minutes = (time.perf_counter() - wall) / 60
    print(f"wall time {minutes:.1f} min", flush=True)
    if args.quick or args.no_write:
        return 0
    targets = [target_clause(r["kind"], r["validity"], r[k2], r["novelty"]) for r in results]
    targets += [
        f"{target_clause(_kind(row[0]), row[1], row[3], row[4])} ({EARLIER})" for row in kept
    ]
    earlier = f"\n\nEarlier-run rows: {kept_source}" if kept else ""
    clock = "CPU" if args.clock == "cpu" else "wall-clock"
    fcd_reference = (
        "all 176,074 MOSES test molecules"
        if args.fcd_test is None
        else f"the first {args.fcd_test:,} of the 176,074 MOSES test molecules"
    )
    notes = f"""Targets: {"; ".join(targets)}.{earlier}

### Sampling temperature

The same models sampled at lower temperatures ({args.samples:,} strings each; the targets
above are judged at MOSES' temperature 1 only):

{temperature_table}

### Property optimisation (QED)

{opt_table}

Measured: {args.samples:,} strings sampled per model from N(0, I), tokens drawn at temperature
1; validity = share RDKit parses (SELFIES decoded to SMILES first); unique@k over the first k
valid; novelty = share of distinct valid molecules not among the 250,000 training molecules
(MOSES measures it against its full 1.58M training set); IntDiv = 1 - mean Tanimoto similarity
(Morgan radius 2, 1024 bits) over the pairs of the first 1,000 distinct valid molecules. Test
recon. = share of 1,000 random MOSES test molecules decoded greedily from their posterior mean
to exactly their string; test KL = mean KL(q(z|x) || N(0, I)) over them; active units: code
dimensions whose posterior mean varies (variance > 0.01) over them. Training: {args.minutes:g}
{clock} minutes per model on the 250,000 MOSES training molecules (time-budgeted loop; the
machine was shared by other jobs, so the steps made are the honest measure), torch threads
{args.threads}, seed {args.seed}; model: bidirectional GRU encoder 2x128, GRU decoder 256,
embeddings 32, code 56, KL weight annealed from 0 to {args.beta:g} over {WARMUP:,} steps, free
bits {args.free_bits:g} nat per dimension, batches of 128, Adam 1e-3. MOSES anchors (Polykovskiy
et al. 2020, Table 2) were trained to convergence on all 1.58M molecules, far beyond this
budget. Property optimisation: the QED predictor (MLP 56-64-64-1 on standardised codes, weight
decay 1e-3, early-stopped on a fifth of its rows) is fitted on the codes of 8,000 random
training molecules and scored on 2,000 others; gradient ascent (Adam 0.05, 100 steps, a
0.01-weighted Gaussian log-prior) starts from the codes of the 20 best of the 8,000, decoding
greedily every 10 steps; QED by RDKit. FCD/Test: Fréchet ChemNet distance (Preuer et al. 2018;
ChemNet activations from the `fcd` 1.2.2 package, whose weights ship in the wheel) between the
canonical valid samples and {fcd_reference} (MOSES measures 30,000 samples against the whole
test set: its anchors VAE 0.099, CharRNN 0.073; FCD shrinks with more samples, so ours, from
at most {args.samples:,}, leans high; lower is better).
Whole script wall time: {minutes:.1f} min."""
    update_results(
        SECTION,
        "python benchmarks/molecules.py " + " ".join(sys.argv[1:]),
        table,
        notes,
        path=args.results,
    )
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
