"""``latentkit models``: list the pretrained models (or show one model's card).

Everything shown comes from each model's ``card.json``, written by its recipe run (``make
zoo``): task, parameters, data, the command that retrains it, the training time and the
numbers on its test set; the size in MB is that of its weights file on disk.
"""

from __future__ import annotations

import argparse
import json

from latentkit.cli.common import add_command, say

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "List the pretrained models: task, size, data, recipe and measured quality.",
        "  latentkit models\n  latentkit models denoiser-gray      (its model card)\n"
        "  latentkit denoise denoiser-gray --data photos/ --sigma 0.1 --out denoised.png",
    )
    parser.add_argument("name", nargs="?", default=None, help="show this model's card")
    parser.add_argument("--json", action="store_true", help="print the cards as JSON")
    return parser


def _lines(card: dict) -> list[str]:
    training = card["training"]
    return [
        f"{card['name']}  ({card['task']}): {card['summary']}",
        f"    size: {card['parameters']:,} parameters, {card['megabytes']:.2f} MB",
        f"    data: {card['train_data']}",
        f"    recipe: {card['recipe']['command']} ({training['cpu_seconds'] / 60:.1f} CPU-min on "
        f"{training['cpu']}, {training['torch_threads']} thread(s))",
        f"    quality: {card['headline']}",
    ]


def run(args: argparse.Namespace) -> int:
    from latentkit import zoo

    if args.name is not None:
        card = zoo.card(args.name)  # an unknown name: one line listing the names
        if args.json:
            say(json.dumps(card, indent=2))
        else:
            say((zoo.path(args.name) / zoo.README_FILE).read_text().rstrip())
        return 0
    cards = zoo.cards()
    if args.json:
        say(json.dumps(cards, indent=2))
        return 0
    for card in cards:
        say("\n".join(_lines(card)))
    total = sum(card["megabytes"] for card in cards)
    say(
        f"{len(cards)} pretrained models, {total:.1f} MB; use one with 'latentkit COMMAND NAME' "
        "or --model NAME, or in Python latentkit.pretrained(NAME)"
    )
    return 0
