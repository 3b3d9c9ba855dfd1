"""Quality-control figures a scientist looks at before trusting the numbers.

Every function takes ``ax=None`` (a new figure is made) and returns the matplotlib Axes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._validation import check_fs, check_v
from ..analysis import analyze

#: Colours used consistently across figures.
EPISODE_COLOR, SPIKE_COLOR, TRACE_COLOR = "#f4a261", "#e63946", "#264653"


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(9, 2.6))
    return ax


def plot_trace(v, fs, *, oscillations=None, spikes=None, t0: float = 0.0, ax=None, max_points: int = 200_000):
    """Membrane potential with SSO episodes shaded and spike peaks marked.

    Parameters
    ----------
    v : ndarray, shape (n,)
        Membrane potential in mV.
    fs : float
        Sampling rate in Hz.
    oscillations, spikes : DataFrame, optional
        Tables from `drgephys.analyze` for this sweep (times in s from the sweep's start).
    t0 : float
        Time of the first sample in s.
    max_points : int
        Traces longer than this are drawn min/max-decimated (peaks are kept).

    Returns
    -------
    matplotlib.axes.Axes
    """
    v = check_v(v)
    fs = check_fs(fs)
    ax = _ax(ax)
    t = t0 + np.arange(v.size) / fs
    if v.size > max_points:
        k = int(np.ceil(v.size / (max_points // 2)))
        n = v.size // k * k
        blocks = v[:n].reshape(-1, k)
        tb = t[:n].reshape(-1, k)[:, 0]
        t = np.repeat(tb, 2)
        v = np.column_stack([blocks.min(1), blocks.max(1)]).ravel()
    ax.plot(t, v, color=TRACE_COLOR, lw=0.6)
    if oscillations is not None and len(oscillations):
        for s, e in zip(oscillations["start_s"], oscillations["end_s"]):
            ax.axvspan(s, e, color=EPISODE_COLOR, alpha=0.35, lw=0)
    if spikes is not None and len(spikes):
        ax.plot(spikes["peak_s"], spikes["peak_mv"], "v", color=SPIKE_COLOR, ms=4, label="spikes")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("Vm (mV)")
    return ax


def spike_spans(spikes, offset: int = 0, n: int | None = None) -> np.ndarray | None:
    """Sample spans ``[threshold_index, end_index]`` (threshold to AHP recovery) of a spike table, shifted by
    `-offset` and kept when they overlap ``[0, n)``; None when the table lacks those columns."""
    if spikes is None or not len(spikes) or not {"threshold_index", "end_index"} <= set(spikes.columns):
        return None
    spans = spikes[["threshold_index", "end_index"]].to_numpy(dtype=float)
    spans = spans[np.isfinite(spans).all(axis=1)].astype(np.int64) - int(offset)
    if n is not None:
        spans = spans[(spans[:, 1] >= 0) & (spans[:, 0] < n)]
    return spans


def _bridge(x: np.ndarray, spans: np.ndarray) -> None:
    """Replace each span of `x` (in place) by the straight line between the samples just outside it."""
    n = x.size
    for a, b in spans:
        a, b = max(int(a) - 1, 0), min(int(b) + 1, n - 1)
        if b > a:
            x[a:b + 1] = np.linspace(x[a], x[b], b - a + 1)


def spectrogram_db(v, fs, *, band_hz=(10.0, 200.0), window_s: float = 0.25, max_columns: int | None = None,
                   spans=None):
    """Power spectrogram of the membrane potential in the SSO band, spikes removed first.

    Spikes would spread broadband power over every column: the `spans` (spike threshold to AHP recovery, as
    the detector removes them) are bridged by straight lines, then the trace is clipped a little above its
    99th percentile (what is left of spikes when no spans are given), its median removed, decimated (FIR, anti-aliased) to about 4× the band top and cut into
    half-overlapping windows (less overlap, then groups of abutting windows averaged, when `max_columns`
    asks for fewer columns).

    Parameters
    ----------
    v : ndarray, shape (n,)
        Membrane potential in mV (any float dtype; not modified).
    fs : float
        Sampling rate in Hz.
    band_hz : (float, float)
        Frequencies kept, Hz (the top is capped at the Nyquist frequency).
    window_s : float
        Window length of each spectrum, s.
    max_columns : int, optional
        At most this many time columns (the hop between windows grows up to the window length, then the
        power of consecutive windows is averaged).
    spans : ndarray, shape (n_spikes, 2), optional
        Sample index ranges ``[start, end]`` to bridge (e.g. `spike_spans` of the spike table).

    Returns
    -------
    t_s : ndarray, shape (n_t,)
        Window centres in s from the first sample.
    f_hz : ndarray, shape (n_f,)
        Frequencies in Hz inside `band_hz`.
    power_db : ndarray, shape (n_f, n_t)
        Power spectral density in dB re 1 mV²/Hz.
    """
    from scipy import signal

    v = np.asarray(v)
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"`v` must be a 1-D array of at least 2 samples; got shape {v.shape}")
    fs = check_fs(fs)
    window_s = float(window_s)
    if not window_s > 0:
        raise ValueError(f"`window_s` must be a positive duration in s; got {window_s!r}")
    hi = min(float(band_hz[1]), fs / 2)
    q = max(int(fs // (4 * hi)), 1)
    x = np.array(v, dtype=np.float64)  # a copy: bridging writes into it
    if spans is not None and len(spans):
        _bridge(x, np.asarray(spans))
    med = float(np.median(x))
    x = np.clip(x, None, med + 5 * (float(np.percentile(x, 99)) - med) + 1.0) - med  # tame spikes
    if q > 1 and x.size > 27 * q:  # decimate needs more samples than its filter
        x = signal.decimate(x, q, ftype="fir")
    else:
        q = 1
    fsd = fs / q
    nper = min(max(int(window_s * fsd), 16), x.size)
    hop = max(nper // 2, 1)
    if max_columns is not None and (x.size - nper) // hop + 1 > max_columns:
        hop = min(int(np.ceil((x.size - nper) / max(int(max_columns) - 1, 1))), nper)
    f, tt, sxx = signal.spectrogram(x, fsd, nperseg=nper, noverlap=nper - hop)
    if max_columns is not None and tt.size > max_columns:  # windows abut and are still too many: average
        k = int(np.ceil(tt.size / int(max_columns)))
        starts = np.arange(0, tt.size, k)
        count = np.diff(np.append(starts, tt.size))
        sxx = np.add.reduceat(sxx, starts, axis=1) / count
        tt = np.add.reduceat(tt, starts) / count
    keep = (f >= band_hz[0]) & (f <= hi)
    return tt, f[keep], 10 * np.log10(sxx[keep] + 1e-20)


def plot_spectrogram(v, fs, *, band_hz=(10.0, 200.0), window_s: float = 0.25, t0: float = 0.0,
                     spikes=None, ax=None, colorbar: bool = True):
    """Spectrogram of the membrane potential in the SSO band (spikes clipped first), with a colorbar.

    Parameters
    ----------
    v : ndarray, shape (n,)
        Membrane potential in mV.
    fs : float
        Sampling rate in Hz.
    band_hz : (float, float)
        Frequencies shown, Hz.
    window_s : float
        Window length of each spectrum, s.
    t0 : float
        Time of the first sample in s.
    spikes : DataFrame, optional
        This sweep's spike table: spikes with ``threshold_index``/``end_index`` are bridged before the
        spectrum (else only clipped by amplitude).
    colorbar : bool
        Draw a colorbar labelled in dB re 1 mV²/Hz.

    Returns
    -------
    matplotlib.axes.Axes
    """
    v = check_v(v)
    ax = _ax(ax)
    tt, f, db = spectrogram_db(v, fs, band_hz=band_hz, window_s=window_s, spans=spike_spans(spikes, 0, v.size))
    mesh = ax.pcolormesh(t0 + tt, f, db, shading="auto", cmap="magma")
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label="PSD (dB re 1 mV²/Hz)", pad=0.01)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    return ax


def plot_isi_histogram(spike_times_s, *, bins: int = 40, ax=None):
    """Histogram of log10 inter-spike intervals (bursting shows two modes, tonic one narrow mode).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _ax(ax)
    st = np.sort(np.asarray(spike_times_s, dtype=float))
    isi = np.diff(st)
    isi = isi[isi > 0]
    if isi.size:
        ax.hist(np.log10(isi * 1e3), bins=bins, color=TRACE_COLOR)
    else:
        ax.text(0.5, 0.5, "fewer than 2 spikes", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("log10 ISI (ms)")
    ax.set_ylabel("count")
    return ax


def qc_figure(trace, result=None, *, band_hz=(10.0, 200.0), figure=None, title: str | None = None):
    """Three-panel QC figure for one sweep: trace with episodes and spikes, spectrogram, ISI histogram.

    Parameters
    ----------
    trace : drgephys.Trace
    result : AnalysisResult, optional
        Its rows for this trace's file/sweep are drawn (computed with `drgephys.analyze` when omitted).
    band_hz : (float, float)
        Frequencies of the spectrogram, Hz.
    figure : matplotlib.figure.Figure, optional
        Figure to draw in (e.g. a ``matplotlib.figure.Figure()`` made without pyplot, so that nothing is
        shown or kept open); a new pyplot figure of 10 × 6 in when omitted.
    title : str, optional
        Figure title; default "<file name> — sweep <n>" (the file's name, not its path).

    Returns
    -------
    matplotlib.figure.Figure
    """

    if result is None:
        result = analyze(trace)
    osc, spk = result.oscillations, result.spikes
    if len(result.recordings) > 1:
        label = result.recordings["file"].iloc[0]
        sel = lambda df: df[(df["sweep"] == trace.sweep) & (df["file"] == label)]  # noqa: E731
        osc, spk = sel(osc), sel(spk)
    if figure is None:
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=(10, 6), constrained_layout=True)
    else:
        figure.set_layout_engine("constrained")
    gs = figure.add_gridspec(2, 3)
    plot_trace(trace.v, trace.fs, oscillations=osc, spikes=spk, ax=figure.add_subplot(gs[0, :]))
    plot_spectrogram(trace.v, trace.fs, band_hz=band_hz, spikes=spk, ax=figure.add_subplot(gs[1, :2]))
    plot_isi_histogram(spk["peak_s"] if len(spk) else [], ax=figure.add_subplot(gs[1, 2]))
    if title is None:
        title = f"{Path(trace.file).name if trace.file else 'trace'} — sweep {trace.sweep}"
    figure.suptitle(title, fontsize=9)
    return figure


__all__ = ["plot_trace", "spike_spans", "spectrogram_db", "plot_spectrogram", "plot_isi_histogram", "qc_figure"]
