"""Retrain the shipped discharge-pattern model (drgephys/data/discharge_model.json).

Simulated spike trains (`drgephys.sim.spike_train`) of the four patterns — silent, tonic, bursting,
irregular — go through realistic detection noise (timing jitter, a few missed and extra spikes,
`drgephys.spikes.training.DetectionNoise`), become `discharge_features` rows, and train a
`DischargePatternClassifier` (standardisation + multinomial logistic regression). The script prints
stratified 5-fold cross-validated scores and the confusion matrix, scores a held-out set from another
seed, and writes the fitted parameters as plain JSON (no pickle).

Usage::

    python scripts/train_discharge_model.py [--n-per-class 300] [--seed 20260101] [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path

import numpy as np

from drgephys.spikes import DischargePatternClassifier
from drgephys.spikes.discharge import MODEL_FEATURES
from drgephys.spikes.training import PATTERNS, DetectionNoise, simulated_set

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "drgephys" / "data" / "discharge_model.json"


def _usable(X, y, counts):
    """Trains with ≥ 2 spikes (below that `classify_discharge` answers "silent" by rule)."""
    keep = counts >= 2
    X = X[keep]
    # features undefined for 2-spike trains (CV2, LV, Otsu split) are filled with column medians
    med = np.nanmedian(X, axis=0)
    return np.where(np.isfinite(X), X, med), y[keep]


def _report(y_true, y_pred, labels, title):
    from sklearn.metrics import balanced_accuracy_score, confusion_matrix

    bal = balanced_accuracy_score(y_true, y_pred)
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    print(f"\n{title}: balanced accuracy {bal:.3f}")
    print("confusion matrix (rows = truth, columns = predicted):")
    print(" " * 11 + "".join(f"{c:>11}" for c in labels))
    for lab, row in zip(labels, cm):
        print(f"{lab:>11}" + "".join(f"{n:>11d}" for n in row))
    return float(bal), cm.tolist()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-per-class", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--test-seed", type=int, default=777)
    ap.add_argument("--C", type=float, default=1.0)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)

    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    noise = DetectionNoise()
    X_raw, y_raw, counts = simulated_set(args.n_per_class, args.seed, noise=noise)
    print(f"{len(y_raw)} simulated trains; spikes per train by pattern:")
    for p in PATTERNS:
        c = counts[y_raw == p]
        print(f"  {p:>10}: median {np.median(c):.0f}, range {c.min()}–{c.max()}, "
              f"< 2 spikes: {np.mean(c < 2):.0%}")
    X, y = _usable(X_raw, y_raw, counts)
    labels = [p for p in PATTERNS if p in set(y)]
    model = DischargePatternClassifier(C=args.C)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=args.seed)
    y_cv = cross_val_predict(model, X, y, cv=cv)
    cv_bal, cv_cm = _report(y, y_cv, labels, "5-fold cross-validation")

    model.fit(X, y)
    X_t, y_t, c_t = simulated_set(max(args.n_per_class // 3, 50), args.test_seed, noise=noise)
    # the full rule, as classify_discharge applies it: < 2 spikes → silent, else the model
    Xf = np.where(np.isfinite(X_t), X_t, model.fill_values_)
    pred = np.where(c_t < 2, "silent", model.predict(Xf))
    test_bal, test_cm = _report(y_t, pred, list(PATTERNS), f"held-out seed {args.test_seed} (full rule)")

    model.metadata_ = {
        "features": list(MODEL_FEATURES),
        "trained_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "training": {"generator": "drgephys.sim.spike_train", "n_per_class": args.n_per_class,
                     "seed": args.seed, "n_used": int(len(y)), "detection_noise": noise.__dict__},
        "cv_balanced_accuracy": cv_bal, "cv_confusion": {"labels": labels, "matrix": cv_cm},
        "heldout_balanced_accuracy": test_bal,
        "heldout_confusion": {"labels": list(PATTERNS), "matrix": test_cm, "seed": args.test_seed},
        "rule": "fewer than 2 spikes -> silent (classify_discharge); model otherwise",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
