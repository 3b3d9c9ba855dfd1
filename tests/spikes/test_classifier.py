"""DischargePatternClassifier: scikit-learn contract, JSON round trip, shipped model accuracy."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import balanced_accuracy_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from drgephys.spikes import MODEL_FEATURES, DischargePatternClassifier, classify_discharge, load_default_model
from drgephys.spikes.training import PATTERNS, simulated_set

BALANCED_ACCURACY_MIN = 0.9
UNSEEN_SEED = 4242          # the shipped model was trained on seed 20260101 (see its metadata)
N_PER_CLASS_TEST = 40


@parametrize_with_checks([DischargePatternClassifier()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_json_round_trip_is_exact(tmp_path):
    X, y = make_classification(200, 5, n_informative=3, n_classes=3, random_state=0)
    labels = np.array(["a", "bb", "ccc"])[y]
    m = DischargePatternClassifier(C=0.5).fit(X, labels)
    m2 = DischargePatternClassifier.from_json(m.to_json())
    np.testing.assert_array_equal(m.predict_proba(X), m2.predict_proba(X))
    np.testing.assert_array_equal(m.predict(X), m2.predict(X))
    assert m2.get_params() == m.get_params()
    p = m.save(tmp_path / "model.json")
    assert json.loads(p.read_text())["format"] == "drgephys.DischargePatternClassifier"
    np.testing.assert_array_equal(DischargePatternClassifier.load(p).predict(X), m.predict(X))


def test_binary_probabilities_match_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(150, 4, random_state=1)
    m = DischargePatternClassifier(class_weight=None).fit(X, y)
    Z = (X - X.mean(0)) / X.std(0)
    ref = LogisticRegression().fit(Z, y)
    np.testing.assert_allclose(m.predict_proba(X), ref.predict_proba(Z), atol=1e-6)


def test_serialisation_errors(tmp_path):
    with pytest.raises(ValueError, match=r"not a drgephys.DischargePatternClassifier model"):
        DischargePatternClassifier.from_dict({"format": "pickle"})
    d = DischargePatternClassifier().fit([[0.0], [1.0]], ["a", "b"]).to_dict()
    d["version"] = 99
    with pytest.raises(ValueError, match=r"unsupported model version 99"):
        DischargePatternClassifier.from_dict(d)
    with pytest.raises(FileNotFoundError, match=r"model file not found"):
        DischargePatternClassifier.load(tmp_path / "missing.json")


def test_default_model_is_shipped_as_json():
    m = load_default_model()
    assert sorted(m.classes_.tolist()) == sorted(PATTERNS)
    assert m.n_features_in_ == len(MODEL_FEATURES)
    assert m.metadata_["features"] == list(MODEL_FEATURES)
    assert m.metadata_["training"]["seed"] != UNSEEN_SEED
    assert DischargePatternClassifier.default() is not DischargePatternClassifier.default()


def test_shipped_model_on_unseen_simulated_trains():
    pytest.importorskip("drgephys.sim", reason="drgephys.sim (spike_train) not available")
    X, y, counts = simulated_set(N_PER_CLASS_TEST, UNSEEN_SEED)
    m = load_default_model()
    Xf = np.where(np.isfinite(X), X, m.fill_values_)
    pred = np.where(counts < 2, "silent", m.predict(Xf))
    assert balanced_accuracy_score(y, pred) >= BALANCED_ACCURACY_MIN


def test_classify_discharge_rule_and_patterns():
    assert classify_discharge([], 30.0) == "silent"
    assert classify_discharge([3.2], 30.0) == "silent"
    rng = np.random.default_rng(5)
    tonic = np.arange(0.1, 30.0, 0.2) + rng.normal(0, 0.004, 150)
    assert classify_discharge(tonic, 30.0) == "tonic"
    burst_starts = np.cumsum(rng.uniform(1.5, 3.0, 12))
    bursts = (burst_starts[:, None] + np.arange(6)[None, :] * 0.03).ravel()
    assert classify_discharge(bursts, 32.0) == "bursting"
    poisson = np.cumsum(rng.exponential(0.5, 60))
    assert classify_discharge(poisson, float(poisson[-1]) + 0.5) == "irregular"
