"""Find malignant tumours as outliers among benign ones with ``VAEOutlierDetector``,
next to scikit-learn's ``IsolationForest``.

    python examples/anomaly_table.py [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from latentkit.sklearn import VAEOutlierDetector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    data = load_breast_cancer()
    rng = np.random.default_rng(args.seed)
    benign = np.flatnonzero(data.target == 1)
    malignant = rng.choice(np.flatnonzero(data.target == 0), size=30, replace=False)
    rows = np.concatenate([benign, malignant])
    x, is_outlier = data.data[rows], np.r_[np.zeros(len(benign)), np.ones(len(malignant))]

    for name, detector in [
        ("VAEOutlierDetector", VAEOutlierDetector(contamination=0.08, random_state=args.seed)),
        ("IsolationForest", IsolationForest(contamination=0.08, random_state=args.seed)),
    ]:
        detector.fit(x)
        auroc = roc_auc_score(is_outlier, -detector.score_samples(x))
        flagged = (detector.predict(x) == -1).mean()
        print(f"{name:20s} AUROC {auroc:.3f}, flagged {flagged:.1%} of rows")


if __name__ == "__main__":
    main()
