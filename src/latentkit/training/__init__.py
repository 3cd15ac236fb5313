"""Training: the loop, checkpoints, distributed data parallelism and callbacks."""

from latentkit.training.callbacks import Callback
from latentkit.training.config import CorruptionConfig, TrainConfig
from latentkit.training.setup import seeded
from latentkit.training.trainer import History, Trainer

__all__ = ["Callback", "CorruptionConfig", "History", "TrainConfig", "Trainer", "seeded"]
