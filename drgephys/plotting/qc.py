"""Quality-control figures a scientist looks at before trusting the numbers.

Every function takes ``ax=None`` (a new figure is made) and returns the matplotlib Axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_fs, check_v

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
        Tables from `drgephys.analyze` for this sweep (times in s, including `t0`).
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


def plot_spectrogram(v, fs, *, band_hz=(10.0, 200.0), window_s: float = 0.25, t0: float = 0.0,
                     spikes=None, ax=None):
    """Spectrogram of the membrane potential in the SSO band (spikes clipped to the median before).

    Parameters
    ----------
    band_hz : (float, float)
        Frequencies shown, Hz.
    window_s : float
        Window length of each spectrum, s.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from scipy import signal

    v = check_v(v).copy()
    fs = check_fs(fs)
    ax = _ax(ax)
    hi = min(band_hz[1], fs / 2)
    q = max(int(fs // (4 * hi)), 1)
    med = np.median(v)
    v = np.clip(v, None, med + 5 * (np.percentile(v, 99) - med) + 1.0)  # tame spikes for the picture
    x = signal.decimate(v - med, q, ftype="fir") if q > 1 else v - med
    fsd = fs / q
    nper = max(int(window_s * fsd), 16)
    f, tt, sxx = signal.spectrogram(x, fsd, nperseg=min(nper, x.size), noverlap=min(nper, x.size) // 2)
    keep = (f >= band_hz[0]) & (f <= hi)
    ax.pcolormesh(t0 + tt, f[keep], 10 * np.log10(sxx[keep] + 1e-20), shading="auto", cmap="magma")
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


def qc_figure(trace, result=None, *, band_hz=(10.0, 200.0)):
    """Three-panel QC figure for one sweep: trace with episodes and spikes, spectrogram, ISI histogram.

    Parameters
    ----------
    trace : drgephys.Trace
    result : AnalysisResult, optional
        Its rows for this trace's file/sweep are drawn (computed with `drgephys.analyze` when omitted).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from ..analysis import analyze

    if result is None:
        result = analyze(trace)
    osc, spk = result.oscillations, result.spikes
    if len(result.recordings) > 1:
        label = result.recordings["file"].iloc[0]
        sel = lambda df: df[(df["sweep"] == trace.sweep) & (df["file"] == label)]  # noqa: E731
        osc, spk = sel(osc), sel(spk)
    fig = plt.figure(figsize=(10, 6), constrained_layout=True)
    gs = fig.add_gridspec(2, 3)
    plot_trace(trace.v, trace.fs, oscillations=osc, spikes=spk, t0=trace.t0, ax=fig.add_subplot(gs[0, :]))
    plot_spectrogram(trace.v, trace.fs, band_hz=band_hz, t0=trace.t0, ax=fig.add_subplot(gs[1, :2]))
    plot_isi_histogram(spk["peak_s"] if len(spk) else [], ax=fig.add_subplot(gs[1, 2]))
    fig.suptitle(f"{trace.file or 'trace'} — sweep {trace.sweep}", fontsize=9)
    return fig


__all__ = ["plot_trace", "plot_spectrogram", "plot_isi_histogram", "qc_figure"]
