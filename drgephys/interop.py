"""The plugin surface: neo objects, NWB files and scikit-learn pipelines.

- `annotate(segment)` adds a `neo.SpikeTrain` (AP features as array annotations) and a `neo.Epoch` (SSO
  episodes with their measures) to a neo Segment, so `elephant.statistics` works on them directly.
- `to_nwb(result, nwbfile)` / `from_nwb(nwbfile)` store the analysis tables in an NWB processing module.
- `OscillationFeatures` and `SpikeTrainFeatures` are scikit-learn transformers turning a list of traces into
  a feature matrix, usable in a `Pipeline` with any estimator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from .analysis import AnalysisParams, analyze
from .io import Trace, from_neo
from .spikes import discharge_features

#: Name of the NWB processing module drgephys writes.
NWB_MODULE = "drgephys"
_TABLES = {"recordings": "per-sweep summary", "oscillations": "SSO episodes", "spikes": "action potentials"}


def annotate(segment, *, channel=None, params: AnalysisParams | None = None):
    """Analyse a neo Segment's membrane potential and attach the results to it.

    Adds one `neo.SpikeTrain` named ``"drgephys spikes"`` (spike peak times, with every AP feature of
    `spikes.csv` as array annotations) and one `neo.Epoch` named ``"drgephys SSO episodes"`` (episode
    start and duration, with frequency, amplitude, cycles and membrane potential as array annotations).

    Parameters
    ----------
    segment : neo.Segment
        Holds the membrane-potential signal (chosen as `drgephys.load` does; `channel` overrides).
    params : AnalysisParams, optional

    Returns
    -------
    AnalysisResult
        The tables the annotations were made from.
    """
    import neo
    import quantities as pq

    if not isinstance(segment, neo.Segment):
        raise TypeError(f"`segment` must be a neo.Segment; got {type(segment).__name__}")
    rec = from_neo(segment, channel=channel)
    tr = rec[0]
    res = analyze(tr, params=params)
    t_stop = tr.t0 + tr.duration_s
    spk = res.spikes
    st = neo.SpikeTrain((spk["peak_s"].to_numpy(dtype=float) + tr.t0) * pq.s, t_start=tr.t0 * pq.s,
                        t_stop=max(t_stop, float(spk["peak_s"].max()) + tr.t0 if len(spk) else t_stop) * pq.s,
                        name="drgephys spikes")
    for col in ("threshold_s", "threshold_mv", "peak_mv", "amplitude_mv", "half_width_ms", "ahp_mv",
                "max_dvdt_mv_per_ms", "sso_phase_rad"):
        st.array_annotate(**{col: spk[col].to_numpy(dtype=float)})
    st.array_annotate(trigger=spk["trigger"].astype(str).to_numpy())
    osc = res.oscillations
    ep = neo.Epoch(times=(osc["start_s"].to_numpy(dtype=float) + tr.t0) * pq.s,
                   durations=(osc["end_s"] - osc["start_s"]).to_numpy(dtype=float) * pq.s,
                   labels=np.array(["SSO"] * len(osc), dtype="U3"), name="drgephys SSO episodes")
    for col in ("frequency_hz", "amplitude_mv", "n_cycles", "mean_vm_mv"):
        ep.array_annotate(**{col: osc[col].to_numpy(dtype=float)})
    segment.spiketrains.append(st)
    segment.epochs.append(ep)
    st.segment = segment
    ep.segment = segment
    return res


def to_nwb(result, nwbfile, *, module_name: str = NWB_MODULE):
    """Write the recordings, oscillations and spikes tables into an NWB processing module.

    Parameters
    ----------
    result : AnalysisResult
    nwbfile : pynwb.NWBFile
        Modified in place (the caller writes it with `pynwb.NWBHDF5IO`).

    Returns
    -------
    pynwb.base.ProcessingModule
    """
    try:
        from hdmf.common import DynamicTable
    except ImportError:  # pragma: no cover - pynwb brings hdmf
        raise ImportError("NWB export needs pynwb: pip install drgephys[nwb]") from None
    if module_name in nwbfile.processing:
        raise ValueError(f"the NWB file already has a processing module '{module_name}'; pass another "
                         "`module_name`")
    mod = nwbfile.create_processing_module(name=module_name, description="drgephys analysis tables")
    for name, desc in _TABLES.items():
        df = getattr(result, name).copy()
        for c in df.columns:  # NWB columns must be plain numbers or strings
            if df[c].dtype.kind in "OSUb" or str(df[c].dtype) in ("string", "boolean", "Int64"):
                if str(df[c].dtype) == "Int64":
                    df[c] = df[c].astype("float64")
                elif str(df[c].dtype) == "boolean":
                    df[c] = df[c].astype("float64")
                else:
                    df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str)
        df = df.reset_index(drop=True)
        df.index.name = "id"
        table = DynamicTable.from_dataframe(df, name=name, table_description=f"drgephys {desc}")
        mod.add(table)
    return mod


def from_nwb(nwbfile, *, module_name: str = NWB_MODULE) -> dict:
    """Read the tables written by `to_nwb` back as DataFrames (``{"recordings": ..., ...}``)."""
    if module_name not in nwbfile.processing:
        raise ValueError(f"the NWB file has no processing module '{module_name}'; write one with to_nwb()")
    mod = nwbfile.processing[module_name]
    out = {}
    for name in _TABLES:
        df = mod[name].to_dataframe().reset_index(drop=True)
        out[name] = df
    return out


def _as_traces(X) -> list[Trace]:
    if isinstance(X, Trace):
        return [X]
    traces = list(X)
    bad = [type(t).__name__ for t in traces if not isinstance(t, Trace)]
    if bad:
        raise TypeError(f"`X` must be a list of drgephys Trace objects; got items of type {sorted(set(bad))}")
    return traces


class OscillationFeatures(TransformerMixin, BaseEstimator):
    """Turn traces into SSO features: one row per trace.

    Columns (`get_feature_names_out`): ``sso_detected``, ``sso_frequency_hz``, ``sso_amplitude_mv``,
    ``sso_time_fraction``, ``n_episodes``, ``resting_vm_mv``. NaN frequencies/amplitudes of cells without
    SSOs are replaced by `fill_value`.

    Parameters
    ----------
    params : AnalysisParams, optional
    fill_value : float
        Value for features undefined in a trace without SSOs.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> pipe = make_pipeline(OscillationFeatures(), LogisticRegression())  # fit on a list of Traces
    """

    _names = ("sso_detected", "sso_frequency_hz", "sso_amplitude_mv", "sso_time_fraction", "n_episodes",
              "resting_vm_mv")

    def __init__(self, params=None, fill_value: float = 0.0):
        self.params = params
        self.fill_value = fill_value

    def fit(self, X, y=None):
        _as_traces(X)
        self.n_features_out_ = len(self._names)
        return self

    def transform(self, X):
        rows = []
        for tr in _as_traces(X):
            res = analyze(tr, params=self.params)
            r = res.recordings.iloc[0]
            rows.append([float(bool(r["sso_detected"])), r["sso_frequency_hz"], r["sso_amplitude_mv"],
                         r["sso_time_fraction"], float(len(res.oscillations)), r["resting_vm_mv"]])
        out = np.asarray(pd.DataFrame(rows).astype(float), dtype=float).reshape(-1, len(self._names))
        return np.where(np.isfinite(out), out, self.fill_value)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self._names, dtype=object)


class SpikeTrainFeatures(TransformerMixin, BaseEstimator):
    """Turn traces into discharge features from their detected spikes: one row per trace.

    Uses `drgephys.spikes.discharge_features` (rate, CV, CV2, LV from elephant, burst and SSO-locking
    measures); undefined values (e.g. CV of a silent cell) become `fill_value`.
    """

    def __init__(self, params=None, fill_value: float = 0.0):
        self.params = params
        self.fill_value = fill_value

    def fit(self, X, y=None):
        _as_traces(X)
        self.feature_names_ = None
        return self

    def _features(self, tr: Trace) -> dict:

        res = analyze(tr, params=self.params)
        r = res.recordings.iloc[0]
        f = r["sso_frequency_hz"]
        return discharge_features(res.spikes["peak_s"].to_numpy(dtype=float), float(r["duration_s"]),
                                  sso_frequency_hz=None if pd.isna(f) else float(f))

    def transform(self, X):
        feats = [self._features(tr) for tr in _as_traces(X)]
        names = sorted(k for k, v in feats[0].items() if np.isscalar(v) and not isinstance(v, str))
        self.feature_names_ = names
        out = np.array([[float(f.get(k, np.nan)) for k in names] for f in feats], dtype=float)
        return np.where(np.isfinite(out), out, self.fill_value)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self.feature_names_ or [], dtype=object)


__all__ = ["annotate", "to_nwb", "from_nwb", "OscillationFeatures", "SpikeTrainFeatures"]
