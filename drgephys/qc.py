"""Quality-control flags as data: one registry of sweep flags (code, check, threshold, message).

Every analysed sweep row carries ``qc_flags``: the codes of the `QC_FLAGS` entries whose check fired, joined
by ``";"`` (``""`` when none fired; <NA> on refused rows), and each fired flag adds one remark to the
``message`` column. A flag is *blocking* when the sweep's numbers should not enter a group comparison:
`drgephys.stats.compare` and the report leave such sweeps out by default, say how many, and take
``include_flagged=True`` (``--include-flagged``) to keep them.

The checks read a `QcEvidence` (what the pipeline gathered over the sweep's windows: the potential's
spread and extremes, its head and tail, the spike stage's counts) and the thresholds of `QcParams`, which
are saved with every result (``params.json``). Adding a flag is one `QcFlag` entry here (plus, if it needs
new evidence, one field of `QcEvidence` filled in `QcEvidence.add`).

| code                   | blocking | fires when (defaults of `QcParams`)                                      |
|------------------------|----------|---------------------------------------------------------------------------|
| `baseline_implausible` | yes      | resting potential outside −100…−30 mV (an offset, a dead or model cell)  |
| `depolarized`          | yes      | above −20 mV for more than half the sweep (no SSO is reported there)     |
| `undersampled`         | no       | fs < 5 kHz: AP shape features (threshold, half-width, dV/dt) left empty   |
| `high_noise`           | no       | SSO-band noise floor > 1 mV peak to peak: smaller SSOs cannot be seen    |
| `drift`                | no       | head and tail of a sweep ≥ 2 s differ by more than 10 mV                |
| `clipped`              | no       | the trace sits at its extreme value for ≥ 0.5 ms (amplifier/ADC rail)   |
| `spikes_rejected`      | no       | ≥ 3 candidates peaking above 0 mV failed the spike shape limits           |
| `evoked_present`       | no       | spikes fell inside stimulus windows (excluded from the discharge pattern) |

Examples
--------
>>> from drgephys.qc import QC_FLAGS
>>> QC_FLAGS["depolarized"].blocking
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._numerics.order import median
from ._numerics.spans import in_spans, merge_spans
from ._validation import check_positive
from .reasons import Reason, Registry

__all__ = ["QcParams", "QcFlag", "QC_FLAGS", "QcEvidence", "evaluate", "blocking_codes", "split_flags",
           "blocked_rows", "blocked_summary", "SHAPE_COLUMNS"]

#: Samples of the strided subsample the depolarised share is counted on, per window (a flag at half the sweep:
#: over the 562 sweeps of four benchmark cohorts, sample_data and ../shared/real_data the share on 16,384
#: samples differs from the whole one by at most 0.0006; 65,536: 0.0002, at four times the cache misses).
_SHARE_SAMPLES = 16_384
#: Samples of the strided subsample each drift median is taken on (a 10-mV flag: over the 262 sweeps of the
#: benchmark cohorts, sample_data and ../shared/real_data, the medians of 4,096 samples differ from the
#: whole ones by at most 0.029 mV (16,384: 0.009 mV), and cost a quarter).
_DRIFT_SAMPLES = 4_096
#: Longest flat run measured at an extreme (beyond any `clip_run_ms` at 200 kHz: 10 ms).
_CLIP_RUN_CAP = 2_000

#: Spike columns that depend on the AP's shape at sample resolution (left empty when `undersampled`).
SHAPE_COLUMNS = ("threshold_mv", "amplitude_mv", "half_width_ms", "max_dvdt_mv_per_ms")


@dataclass(frozen=True)
class QcParams:
    """Thresholds of the QC flags (saved with every result).

    Attributes
    ----------
    resting_range_mv : (float, float)
        Plausible resting potential of a healthy neuron in whole-cell current clamp. DRG neurons rest at
        −45…−70 mV (SCIENCE.md; Study et al. 1990, Amir et al. 1999 report −50…−65 mV); −100…−30 mV leaves
        room for hyperpolarising holding current and for injured, depolarised cells while catching a
        baseline near 0 mV (an uncorrected offset, a lost seal, a model cell).
    depolarized_mv, depolarized_fraction : float
        A sweep above `depolarized_mv` (−20 mV) for more than `depolarized_fraction` (½) of its samples is a
        dying or depolarisation-blocked cell: Na⁺ channels are inactivated there, so no SSO or spike
        generation mechanism applies and no SSO is reported.
    min_fs_hz : float
        Below 5 kHz an AP (rise ~0.3–1 ms) is sampled by a handful of points: threshold, amplitude,
        half-width and max dV/dt are left empty (peak, AHP and timing are kept). eFEL and IPFX assume ≥ 10 kHz.
    max_noise_floor_mv : float
        Experimental SSOs are ~0.5–5 mV peak to peak (SCIENCE.md; Amir et al. 1999); above a 1 mV noise
        floor (the smallest episode amplitude the significance test can pass) the lower part of that range
        cannot be told from noise.
    max_drift_mv, drift_span_s, min_drift_sweep_s : float
        The median of the first and of the last `drift_span_s` (5 s, at most a tenth of the sweep), outside
        spikes and stimulus windows, differ by more than `max_drift_mv` (10 mV): the seal or the cell is
        changing. Judged on sweeps of at least `min_drift_sweep_s` (2 s) only: the end of a shorter
        protocol episode still carries the stimulus's after-effects (rebound, slow AHP).
    clip_run_ms : float
        The trace stays exactly at its largest (or smallest) value for at least this long: the amplifier or
        digitiser range was exceeded (a spike top lasts < 0.3 ms at any one sampled value).
    min_rejected : int
        Candidates peaking above 0 mV that the spike shape limits rejected; from this many on the sweep is
        flagged (broad or odd APs the detector may be missing).
    """

    resting_range_mv: tuple = (-100.0, -30.0)
    depolarized_mv: float = -20.0
    depolarized_fraction: float = 0.5
    min_fs_hz: float = 5000.0
    max_noise_floor_mv: float = 1.0
    max_drift_mv: float = 10.0
    drift_span_s: float = 5.0
    min_drift_sweep_s: float = 2.0
    clip_run_ms: float = 0.5
    min_rejected: int = 3

    def __post_init__(self):
        try:
            lo, hi = float(self.resting_range_mv[0]), float(self.resting_range_mv[1])
        except (TypeError, ValueError, IndexError):
            raise TypeError(f"`resting_range_mv` must be a pair (low, high) in mV; got {self.resting_range_mv!r}"
                            ) from None
        if not lo < hi:
            raise ValueError(f"`resting_range_mv` must satisfy low < high in mV; got {self.resting_range_mv!r}")
        if not (isinstance(self.depolarized_mv, (int, float)) and math.isfinite(self.depolarized_mv)):
            raise ValueError(f"`depolarized_mv` must be a finite potential in mV; got {self.depolarized_mv!r}")
        if not 0 < float(self.depolarized_fraction) <= 1:
            raise ValueError(f"`depolarized_fraction` must be in (0, 1]; got {self.depolarized_fraction!r}")
        for name, unit in (("min_fs_hz", "Hz"), ("max_noise_floor_mv", "mV"), ("max_drift_mv", "mV"),
                           ("drift_span_s", "s"), ("min_drift_sweep_s", "s"),
                           ("clip_run_ms", "ms")):
            check_positive(getattr(self, name), name, unit)
        if isinstance(self.min_rejected, bool) or not isinstance(self.min_rejected, int) or self.min_rejected < 1:
            raise ValueError(f"`min_rejected` must be a positive integer; got {self.min_rejected!r}")


@dataclass
class QcEvidence:
    """What the QC checks read, gathered window by window (`add`) over one sweep.

    Attributes
    ----------
    fs_hz, duration_s : float
    resting_vm_mv : float
        The sweep's resting potential (set by the pipeline from `drgephys.windows.RestingVm`).
    noise_floor_mv : float
        The SSO stage's noise floor (NaN when it did not run).
    n_samples, n_depolarized : int
        Core samples seen, and those above `QcParams.depolarized_mv`.
    head_mv, tail_mv : float
        Spike-free median of the sweep's first and last drift span.
    top_mv, top_run, bottom_mv, bottom_run : float, int
        The largest (smallest) value and its longest run of consecutive samples.
    n_spikes, n_evoked, n_rejected_above_0 : int
        Spikes counted, spikes inside stimulus windows, and rejected candidates peaking above 0 mV.
    resampled : bool
        The samples were interpolated from irregular ones (flat runs then say nothing about clipping).
    """

    fs_hz: float
    duration_s: float
    resting_vm_mv: float = np.nan
    noise_floor_mv: float = np.nan
    n_samples: int = 0
    n_depolarized: int = 0
    head_mv: float = np.nan
    tail_mv: float = np.nan
    top_mv: float = -np.inf
    top_run: int = 0
    bottom_mv: float = np.inf
    bottom_run: int = 0
    n_spikes: int = 0
    n_evoked: int = 0
    n_rejected_above_0: int = 0
    resampled: bool = False

    def add(self, v: np.ndarray, start: int, core: tuple, excluded: tuple, params: QcParams) -> None:
        """Add one window: samples ``v`` read from sweep sample `start`, its core ``(core_start, core_end)``
        (sweep samples) and the ``(starts, ends)`` spans to leave out of baseline medians (spikes, stimulus
        windows; merged, window indices)."""
        c0, c1 = core[0] - start, core[1] - start
        v_core = v[c0:c1]
        # the share above `depolarized_mv` from an evenly strided subsample (`_SHARE_SAMPLES`: the
        # flag needs "most of the sweep", not a count), so this costs a fraction of one pass
        step = max(1, v_core.size // _SHARE_SAMPLES)
        sub = v_core[::step]
        self.n_samples += v_core.size
        self.n_depolarized += int(round(np.count_nonzero(sub > params.depolarized_mv) * v_core.size / sub.size))
        for side in (1, -1):
            i = int(np.argmax(v_core) if side > 0 else np.argmin(v_core))
            ext = float(v_core[i])
            mv, run = (self.top_mv, self.top_run) if side > 0 else (self.bottom_mv, self.bottom_run)
            if side * (ext - mv) < 0:
                continue
            r = _run_from(v_core, i, _CLIP_RUN_CAP)  # a rail is flat wherever the trace reaches it, so at its
            r = max(r, run) if ext == mv else r     # first sample too
            if side > 0:
                self.top_mv, self.top_run = ext, r
            else:
                self.bottom_mv, self.bottom_run = ext, r
        n_sweep = int(round(self.duration_s * self.fs_hz))
        span = int(round(min(params.drift_span_s, 0.1 * self.duration_s) * self.fs_hz))
        if span < 2 or self.duration_s < params.min_drift_sweep_s:
            return
        for attr, a, b in (("head_mv", 0, span), ("tail_mv", n_sweep - span, n_sweep)):
            i0, i1 = max(a - start, c0), min(b - start, c1)
            if i1 > i0 and np.isnan(getattr(self, attr)):
                s, e = excluded
                step = max(1, (i1 - i0) // _DRIFT_SAMPLES)
                keep = ~in_spans(*merge_spans(s - i0, e - i0, i1 - i0), np.arange(0, i1 - i0, step))
                x = v[i0:i1:step]
                if keep.any():                # else: all spikes or stimulus, no baseline there (NaN)
                    setattr(self, attr, median(x[keep]))


def _run_from(v: np.ndarray, i: int, cap: int) -> int:
    """Samples equal to ``v[i]`` in a row from `i` (at most `cap` read)."""
    x = v[i:i + cap]
    diff = np.flatnonzero(x != x[0])
    return int(diff[0]) if diff.size else int(x.size)


@dataclass(frozen=True)
class QcFlag(Reason):
    """One QC flag: a `Reason` with a check ``check(evidence, params) -> str | None`` (the remark when it
    fires) and whether it keeps the sweep out of group comparisons by default (`blocking`)."""

    check: Callable = None
    blocking: bool = False


def _baseline(e: QcEvidence, p: QcParams):
    lo, hi = p.resting_range_mv
    if np.isfinite(e.resting_vm_mv) and not lo <= e.resting_vm_mv <= hi:
        return (f"resting potential {e.resting_vm_mv:.1f} mV is outside {lo:g}…{hi:g} mV: an offset, a lost seal "
                "or a dead cell; check the recording")
    return None


def _depolarized(e: QcEvidence, p: QcParams):
    share = e.n_depolarized / e.n_samples if e.n_samples else 0.0
    if share > p.depolarized_fraction:
        return f"above {p.depolarized_mv:g} mV for {100 * share:.0f} % of the sweep: a dying cell; no SSO reported"
    return None


def _undersampled(e: QcEvidence, p: QcParams):
    if e.fs_hz < p.min_fs_hz:
        return (f"sampled at {e.fs_hz:g} Hz (< {p.min_fs_hz:g} Hz): AP threshold, amplitude, half-width and "
                "dV/dt left empty")
    return None


def _noise(e: QcEvidence, p: QcParams):
    if np.isfinite(e.noise_floor_mv) and e.noise_floor_mv > p.max_noise_floor_mv:
        return (f"SSO-band noise floor {e.noise_floor_mv:.2g} mV (> {p.max_noise_floor_mv:g} mV): smaller SSOs "
                "cannot be detected")
    return None


def _drift(e: QcEvidence, p: QcParams):
    d = e.tail_mv - e.head_mv
    if np.isfinite(d) and abs(d) > p.max_drift_mv:
        return f"baseline drifted {d:+.1f} mV from start to end"
    return None


def _clipped(e: QcEvidence, p: QcParams):
    if e.resampled:        # linear interpolation between sparse equal samples makes flat runs
        return None
    need = max(int(math.ceil(p.clip_run_ms * 1e-3 * e.fs_hz)), 3)
    for mv, run in ((e.top_mv, e.top_run), (e.bottom_mv, e.bottom_run)):
        if run >= need:
            return f"flat at {mv:.4g} mV for {1e3 * run / e.fs_hz:.2g} ms: the amplifier or digitiser range was exceeded"
    return None


def _rejected(e: QcEvidence, p: QcParams):
    if e.n_rejected_above_0 >= p.min_rejected:
        return (f"{e.n_rejected_above_0} candidates peaking above 0 mV failed the spike shape limits (see the "
                "rejected-candidates table)")
    return None


def _evoked(e: QcEvidence, p: QcParams):
    if e.n_evoked:
        return f"{e.n_evoked} of {e.n_spikes} spikes inside stimulus windows (evoked; not in the discharge pattern)"
    return None


QC_FLAGS = Registry([
    QcFlag("baseline_implausible", "implausible baseline",
           "The resting potential is outside `QcParams.resting_range_mv`.", _baseline, True),
    QcFlag("depolarized", "depolarized", "Above `depolarized_mv` for most of the sweep; no SSO reported.",
           _depolarized, True),
    QcFlag("undersampled", "undersampled", "fs below `min_fs_hz`; AP shape features left empty.", _undersampled),
    QcFlag("high_noise", "high noise", "SSO-band noise floor above `max_noise_floor_mv`.", _noise),
    QcFlag("drift", "drift", "Head and tail of the sweep differ by more than `max_drift_mv`.", _drift),
    QcFlag("clipped", "clipped", "Flat at an extreme value for `clip_run_ms` or longer.", _clipped),
    QcFlag("spikes_rejected", "spikes rejected",
           "At least `min_rejected` candidates above 0 mV failed the spike shape limits.", _rejected),
    QcFlag("evoked_present", "evoked spikes", "Spikes inside stimulus windows.", _evoked),
])


def evaluate(evidence: QcEvidence, params: QcParams) -> list[tuple[str, str]]:
    """The flags that fire on `evidence`: ``[(code, remark), ...]`` in registry order."""
    out = []
    for flag in QC_FLAGS:
        remark = flag.check(evidence, params)
        if remark:
            out.append((flag.code, remark))
    return out


def blocking_codes() -> set[str]:
    """Codes of the flags that keep a sweep out of group comparisons by default."""
    return {f.code for f in QC_FLAGS if f.blocking}


def split_flags(value) -> list[str]:
    """The codes of one ``qc_flags`` cell (``""``, NA or NaN → [])."""
    if not isinstance(value, str):
        return []
    return [c for c in value.split(";") if c]


def blocked_rows(recordings) -> np.ndarray:
    """True for the rows of a recordings table whose ``qc_flags`` hold a blocking code (all False when the
    table has no ``qc_flags`` column)."""
    if "qc_flags" not in recordings.columns:
        return np.zeros(len(recordings), bool)
    block = blocking_codes()
    return np.array([bool(block.intersection(split_flags(v))) for v in recordings["qc_flags"]], bool)


def blocked_summary(recordings, mask: np.ndarray) -> str:
    """``"3 sweep(s) with blocking QC flags left out (depolarized: 2, baseline_implausible: 1)"``."""
    counts: dict = {}
    for v in recordings["qc_flags"].to_numpy()[mask]:
        for c in split_flags(v):
            if c in blocking_codes():
                counts[c] = counts.get(c, 0) + 1
    detail = ", ".join(f"{c}: {n}" for c, n in sorted(counts.items()))
    return f"{int(mask.sum())} sweep(s) with blocking QC flags left out ({detail})"
