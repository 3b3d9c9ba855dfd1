"""`DischargePatternClassifier`: standardisation + multinomial logistic regression whose fitted
parameters are plain arrays, saved as JSON (never pickled).

The shipped default model (`drgephys/data/discharge_model.json`) is trained by
``scripts/train_discharge_model.py`` on simulated spike trains; its inputs are
`drgephys.spikes.discharge.MODEL_FEATURES` and its classes ``silent``, ``tonic``, ``bursting``,
``irregular``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .model_file import DEFAULT_MODEL, FORMAT as _FORMAT, VERSION as _VERSION, default_model_dict



class DischargePatternClassifier(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression on standardised features, exportable to JSON.

    Works on any numeric feature matrix and any label set (a scikit-learn classifier); the shipped
    model classifies discharge patterns from `discharge_features`.

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength (scikit-learn `LogisticRegression`).
    class_weight : dict, "balanced" or None
        Class weights ("balanced": inversely proportional to class frequency).
    max_iter : int
        Maximum L-BFGS iterations.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
    mean_, scale_ : ndarray, shape (n_features,)
        Standardisation (scale 1 for constant features).
    coef_ : ndarray, shape (n_classes, n_features)
        Softmax weights on standardised features (binary problems use ±½ of the logistic weights).
    intercept_ : ndarray, shape (n_classes,)
    fill_values_ : ndarray, shape (n_features,)
        Training medians, used by `classify_discharge` for features undefined on very short trains.
    n_features_in_ : int
    n_iter_ : ndarray of int
        L-BFGS iterations run.
    metadata_ : dict
        Free-form provenance (feature names, training scores); empty after `fit`.
    """

    def __init__(self, C: float = 1.0, class_weight="balanced", max_iter: int = 1000):
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    def fit(self, X, y):
        """Fit on `X` (n_samples, n_features) and labels `y`; returns self."""
        from sklearn.linear_model import LogisticRegression

        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        self.fill_values_ = np.median(X, axis=0)
        Z = (X - self.mean_) / self.scale_
        k, p = self.classes_.size, X.shape[1]
        if k == 1:
            self.coef_, self.intercept_ = np.zeros((1, p)), np.zeros(1)
            self.n_iter_ = np.zeros(1, dtype=np.int32)
        else:
            cw = self.class_weight
            if isinstance(cw, dict):  # keys are labels; the inner model sees class indices
                cw = {int(np.flatnonzero(self.classes_ == c)[0]): w for c, w in cw.items() if c in self.classes_}
            lr = LogisticRegression(C=self.C, class_weight=cw, max_iter=self.max_iter).fit(Z, y_idx)
            self.n_iter_ = np.atleast_1d(lr.n_iter_).copy()
            if k == 2:
                self.coef_ = np.vstack([-lr.coef_ / 2, lr.coef_ / 2])
                self.intercept_ = np.array([-lr.intercept_[0] / 2, lr.intercept_[0] / 2])
            else:
                self.coef_, self.intercept_ = lr.coef_.copy(), lr.intercept_.copy()
        self.metadata_ = {}
        return self

    def _logits(self, X):
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False)
        return ((X - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in `classes_` order."""
        z = self._logits(X)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Most probable class of each sample."""
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]

    # ---- plain-data serialisation (no pickle) -------------------------------------------------
    def to_dict(self) -> dict:
        """Parameters and fitted arrays as JSON-compatible builtins."""
        check_is_fitted(self, "coef_")
        classes = self.classes_.tolist()
        return {"format": _FORMAT, "version": _VERSION, "params": self.get_params(),
                "classes": classes, "n_features_in": int(self.n_features_in_),
                "mean": self.mean_.tolist(), "scale": self.scale_.tolist(), "coef": self.coef_.tolist(),
                "intercept": self.intercept_.tolist(), "fill_values": self.fill_values_.tolist(),
                "n_iter": np.asarray(self.n_iter_).tolist(),
                "metadata": getattr(self, "metadata_", {})}

    @classmethod
    def from_dict(cls, d: dict) -> "DischargePatternClassifier":
        """Rebuild a fitted classifier from `to_dict` output."""
        if not isinstance(d, dict) or d.get("format") != _FORMAT:
            raise ValueError(f"not a {_FORMAT} model: expected a dict with format={_FORMAT!r}; "
                             f"got {type(d).__name__} with format={d.get('format') if isinstance(d, dict) else None!r}")
        if d.get("version") != _VERSION:
            raise ValueError(f"unsupported model version {d.get('version')!r}; this drgephys reads version {_VERSION}")
        params = dict(d["params"])
        if isinstance(params.get("class_weight"), dict):
            params["class_weight"] = {k: v for k, v in params["class_weight"].items()}
        m = cls(**params)
        m.classes_ = np.asarray(d["classes"])
        m.n_features_in_ = int(d["n_features_in"])
        for key in ("mean", "scale", "intercept", "fill_values"):
            setattr(m, key + "_", np.asarray(d[key], dtype=float))
        m.coef_ = np.asarray(d["coef"], dtype=float).reshape(m.classes_.size if m.classes_.size > 1 else 1, -1)
        m.n_iter_ = np.asarray(d.get("n_iter", [0]), dtype=np.int32)
        m.metadata_ = dict(d.get("metadata", {}))
        return m

    def to_json(self) -> str:
        """The model as a JSON string."""
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str) -> "DischargePatternClassifier":
        """Rebuild from `to_json` output."""
        return cls.from_dict(json.loads(text))

    def save(self, path) -> Path:
        """Write the model as JSON to `path`; returns the path."""
        p = Path(path)
        p.write_text(self.to_json(), encoding="utf-8")
        return p

    @classmethod
    def load(cls, path) -> "DischargePatternClassifier":
        """Read a model written by `save`."""
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"model file not found: {p}. Train one with scripts/train_discharge_model.py")
        return cls.from_json(p.read_text(encoding="utf-8"))

    @classmethod
    def default(cls) -> "DischargePatternClassifier":
        """The shipped discharge-pattern model (package data ``drgephys/data/discharge_model.json``)."""
        return cls.from_dict(default_model_dict())   # each call builds a fresh estimator


def load_default_model() -> DischargePatternClassifier:
    """Alias of `DischargePatternClassifier.default()`."""
    return DischargePatternClassifier.default()
