"""The widget behind `drgephys.plotting.browse` (needs the ``viewer`` extra).

A plotly ``FigureWidget`` (an anywidget in plotly ≥ 6) with two rows sharing the time axis: the membrane
potential with SSO episodes shaded (one bar per episode, whose hover gives its measures) and spikes marked by
trigger, and a time–frequency panel. Only the visible window is sent to the browser: the trace is reduced to
at most `max_points` samples with tsdownsample's MinMaxLTTB (min-max preselection, then largest-triangle
three-buckets; the aggregator plotly-resampler uses by default) and recomputed from the full-resolution array
whenever the x range changes, so a 1-hour 50-kHz sweep is drawn from the samples under the view at every zoom.
Times are never stored per sample: sample ``i`` is at ``t0 + i / fs``.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from tsdownsample import MinMaxLTTBDownsampler

from .qc import EPISODE_COLOR, TRACE_COLOR, spectrogram_db, spike_spans

#: Marker colour per spike trigger (`spikes.trigger`); missing triggers are grey.
TRIGGER_COLORS = {"oscillation": "#e63946", "other": "#1d70b8"}
_OTHER_COLOR = "#6c757d"
_TF_TITLE = "time–frequency power (dB re the window's median per frequency)"


def _fmt(value, spec: str, unit: str = "") -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–"
    return "–" if not np.isfinite(x) else f"{x:{spec}}{unit}"


def _episode_text(osc: pd.DataFrame) -> np.ndarray:
    """Hover text per episode: time, frequency, amplitude, cycles, and the quality/significance columns
    present in the table (`power_db`, `sinusoidality`, `p_value`)."""
    out = []
    for row in osc.itertuples(index=False):
        r = row._asdict()
        lines = [f"<b>SSO episode</b> {r['start_s']:.3f}–{r['end_s']:.3f} s ({r['end_s'] - r['start_s']:.2f} s)",
                 f"frequency {_fmt(r.get('frequency_hz'), '.1f', ' Hz')}, "
                 f"amplitude {_fmt(r.get('amplitude_mv'), '.2f', ' mV')} p-p",
                 f"{_fmt(r.get('n_cycles'), '.1f')} cycles at Vm {_fmt(r.get('mean_vm_mv'), '.1f', ' mV')}"]
        extra = []
        if "power_db" in r:
            extra.append(f"power {_fmt(r['power_db'], '.1f', ' dB')} over background")
        if "sinusoidality" in r:
            extra.append(f"sinusoidality {_fmt(r['sinusoidality'], '.2f')}")
        if extra:
            lines.append(", ".join(extra))
        if "p_value" in r:
            lines.append(f"significance p = {_fmt(r['p_value'], '.3g')}")
        out.append("<br>".join(lines))
    return np.array(out, dtype=object)


def _spike_text(spk: pd.DataFrame) -> np.ndarray:
    out = []
    for row in spk.itertuples(index=False):
        r = row._asdict()
        trig = r.get("trigger")
        trig = "unknown" if trig is None or trig is pd.NA or (isinstance(trig, float) and np.isnan(trig)) else trig
        out.append(f"<b>spike</b> at {r['peak_s']:.4f} s, peak {_fmt(r.get('peak_mv'), '.1f', ' mV')}<br>"
                   f"threshold {_fmt(r.get('threshold_mv'), '.1f', ' mV')}, "
                   f"half-width {_fmt(r.get('half_width_ms'), '.2f', ' ms')}<br>"
                   f"trigger: {trig}, SSO phase {_fmt(r.get('sso_phase_rad'), '.2f', ' rad')}")
    return np.array(out, dtype=object)


def _thin(n: int, limit: int) -> np.ndarray:
    """Indices of at most `limit` of `n` items, evenly spaced (all of them when n <= limit)."""
    return np.arange(n) if n <= limit else np.unique(np.linspace(0, n - 1, limit).round().astype(np.intp))


class SweepViewer(widgets.VBox):
    """One sweep, interactive: a header (`header`, sweep summary, QC flags, channel report) above a plotly
    `figure` whose data follow the x range.

    Build it with `drgephys.plotting.browse`. Drag to zoom, double-click to reset; `zoom(start_s, end_s)` and
    `show_episode(i)` do the same from code.

    Attributes
    ----------
    figure : plotly.graph_objects.FigureWidget
        Row 1: ``Vm`` trace, ``SSO episodes`` bars, one ``spikes: <trigger>`` marker trace per trigger; row 2:
        ``time–frequency`` heatmap and ``SSO frequency`` segments (the table's frequency per episode).
    header : ipywidgets.HTML
    episodes, spikes : DataFrame
        The sweep's rows of the oscillation and spike tables, sorted by time (times in s from `t0`).
    view_s : (float, float)
        Time range currently drawn, s.
    """

    def __init__(self, v, fs: float, *, t0: float, episodes: pd.DataFrame, spikes: pd.DataFrame,
                 header_html: str, max_points: int, tf_max_s: float, band_hz, window_s: float = 0.25,
                 height_px: int = 560):
        self.header = widgets.HTML(header_html)
        self._v, self._fs, self._t0 = v, float(fs), float(t0)
        self._n = int(v.size)
        self._max_points, self._tf_max_s, self._band, self._window_s = int(max_points), float(tf_max_s), \
            band_hz, float(window_s)
        self._ds = MinMaxLTTBDownsampler()
        self.episodes = episodes.sort_values("start_s", kind="stable").reset_index(drop=True)
        self.spikes = spikes.sort_values("peak_s", kind="stable").reset_index(drop=True)
        self._ep_start = self.episodes["start_s"].to_numpy(float)
        self._ep_end = self.episodes["end_s"].to_numpy(float)
        self._ep_freq = self.episodes["frequency_hz"].to_numpy(float) if "frequency_hz" in self.episodes \
            else np.full(len(self.episodes), np.nan)
        self._ep_text = _episode_text(self.episodes)
        trig = self.spikes["trigger"].astype(object) if "trigger" in self.spikes else \
            pd.Series([None] * len(self.spikes), dtype=object)
        trig = trig.where(trig.notna(), "unknown").astype(str).to_numpy()
        self._spans = spike_spans(self.spikes, 0, self._n)  # bridged in the time-frequency panel
        self._spike_groups = {}
        for name in sorted(set(trig), key=lambda s: (s not in TRIGGER_COLORS, s)):
            sel = np.flatnonzero(trig == name)
            sub = self.spikes.iloc[sel]
            self._spike_groups[name] = (sub["peak_s"].to_numpy(float), sub["peak_mv"].to_numpy(float),
                                        _spike_text(sub))
        self.figure = self._make_figure(height_px)
        self.view_s = (np.nan, np.nan)
        self._render(self._t0, self._t0 + (self._n - 1) / self._fs)
        for ax in ("xaxis", "xaxis2"):
            self.figure.layout.on_change(self._on_range, f"{ax}.range")
            self.figure.layout.on_change(self._on_autorange, f"{ax}.autorange")
        super().__init__([self.header, self.figure])

    # -- figure -----------------------------------------------------------------------------------------
    def _make_figure(self, height_px: int):
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.08,
                            subplot_titles=("membrane potential (SSO episodes shaded, spikes by trigger)",
                                            _TF_TITLE))
        fig.add_trace(go.Scatter(name="Vm", mode="lines", line=dict(color=TRACE_COLOR, width=1),
                                 hovertemplate="%{x:.4f} s<br>%{y:.2f} mV<extra></extra>"), row=1, col=1)
        # episode bars on a hidden 0-1 axis over the Vm axis: they span the panel's height whatever the Vm
        # range, and the Vm axis autoscales to the samples in view
        fig.add_trace(go.Bar(name="SSO episodes", marker=dict(color=EPISODE_COLOR, line=dict(width=0)),
                             opacity=0.35, hoverinfo="text", hoverlabel=dict(bgcolor="#fff3e6"), xaxis="x",
                             yaxis="y3"))
        for name in self._spike_groups:
            fig.add_trace(go.Scatter(name=f"spikes: {name}", mode="markers", hoverinfo="text",
                                     marker=dict(symbol="triangle-down", size=8,
                                                 color=TRIGGER_COLORS.get(name, _OTHER_COLOR))), row=1, col=1)
        fig.add_trace(go.Heatmap(name="time–frequency", colorscale="Magma", zmin=-3.0, zmax=15.0,
                                 colorbar=dict(title=dict(text="dB", side="right"), len=0.36, y=0.0,
                                               yanchor="bottom", thickness=12),
                                 hovertemplate="%{x:.3f} s, %{y:.0f} Hz: %{z:.1f} dB<extra></extra>"),
                      row=2, col=1)
        fig.add_trace(go.Scatter(name="SSO frequency", mode="lines", line=dict(color="#00e5ff", width=2),
                                 hoverinfo="skip"), row=2, col=1)
        fig.update_layout(height=height_px, margin=dict(l=60, r=20, t=70, b=40), barmode="overlay",
                          hovermode="closest", legend=dict(orientation="h", y=0.995, yanchor="top", x=0,
                                                           yref="container"), dragmode="zoom",
                          template="plotly_white")
        fig.update_layout(yaxis3=dict(overlaying="y", anchor="x", range=[0, 1], visible=False, fixedrange=True))
        fig.update_yaxes(title_text="Vm (mV)", row=1, col=1)
        fig.update_yaxes(title_text="Hz", row=2, col=1)
        fig.update_xaxes(title_text="time (s)", row=2, col=1)
        self._keys = [t.name for t in fig.data]
        return go.FigureWidget(fig)

    def _trace(self, key: str):
        """The figure's trace for `key` ("Vm", "SSO episodes", "spikes: <trigger>", "time–frequency",
        "SSO frequency"; display names may carry a thinning note)."""
        return self.figure.data[self._keys.index(key)]

    # -- rendering --------------------------------------------------------------------------------------
    def _window(self, start_s: float, end_s: float) -> tuple[int, int]:
        ia = int(np.clip(np.floor((start_s - self._t0) * self._fs), 0, self._n - 1))
        ib = int(np.clip(np.ceil((end_s - self._t0) * self._fs) + 1, ia + 1, self._n))
        return ia, ib

    def _render(self, start_s: float, end_s: float) -> None:
        ia, ib = self._window(start_s, end_s)
        seg = self._v[ia:ib]
        if seg.size > self._max_points:
            idx = self._ds.downsample(seg, n_out=self._max_points, parallel=True).astype(np.intp)
        else:
            idx = np.arange(seg.size)
        x = self._t0 + (ia + idx) / self._fs
        t_a, t_b = self._t0 + ia / self._fs, self._t0 + (ib - 1) / self._fs
        on = np.flatnonzero((self._ep_end > t_a) & (self._ep_start < t_b))
        on = on[_thin(on.size, self._max_points)]
        tf_x, tf_y, tf_z, tf_title = self._timefreq(ia, ib)
        seg_on = on[_thin(on.size, self._max_points // 3)]
        fx = np.column_stack([self._ep_start[seg_on], self._ep_end[seg_on], np.full(seg_on.size, np.nan)]).ravel()
        fy = np.repeat(self._ep_freq[seg_on], 3)
        fy[2::3] = np.nan
        with self.figure.batch_update():
            vm = self._trace("Vm")
            vm.x, vm.y = x, np.asarray(seg[idx], dtype=np.float64)
            bars = self._trace("SSO episodes")
            bars.x = (self._ep_start[on] + self._ep_end[on]) / 2
            bars.width = self._ep_end[on] - self._ep_start[on]
            bars.y = np.ones(on.size)         # full height of their own hidden 0-1 axis
            bars.base = np.zeros(on.size)
            bars.hovertext = self._ep_text[on]
            for name, (ts, mv, text) in self._spike_groups.items():
                a, b = np.searchsorted(ts, t_a, side="left"), np.searchsorted(ts, t_b, side="right")
                keep = a + _thin(b - a, self._max_points)
                tr = self._trace(f"spikes: {name}")
                tr.x, tr.y, tr.hovertext = ts[keep], mv[keep], text[keep]
                tr.name = f"spikes: {name}" + (f" (1 in {int(np.ceil((b - a) / keep.size))} shown: zoom in)"
                                               if keep.size < b - a else "")
            hm = self._trace("time–frequency")
            hm.x, hm.y, hm.z = tf_x, tf_y, tf_z
            fl = self._trace("SSO frequency")
            fl.x, fl.y = fx, fy
            self.figure.layout.annotations[1].text = tf_title
        self.view_s = (t_a, t_b)

    def _timefreq(self, ia: int, ib: int):
        """Spectrogram of the samples under the view (widened to ≥ 4 windows), or a note when the view is
        longer than `tf_max_s`."""
        dur = (ib - ia) / self._fs
        if dur > self._tf_max_s + 2 / self._fs:  # a view of exactly tf_max_s spans one more sample
            return None, None, None, f"{_TF_TITLE}: zoom to ≤ {self._tf_max_s:g} s to compute it"
        need = int(4 * self._window_s * self._fs)
        if ib - ia < need:
            mid = (ia + ib) // 2
            ia, ib = max(mid - need // 2, 0), min(mid + need // 2, self._n)
        seg = self._v[ia:ib]
        spans = self._spans[(self._spans[:, 1] >= ia) & (self._spans[:, 0] < ib)] - ia \
            if self._spans is not None else None
        n_f_guess = max(int((self._band[1] - self._band[0]) * self._window_s) + 1, 1)
        t, f, db = spectrogram_db(seg, self._fs, band_hz=self._band, window_s=self._window_s,
                                  max_columns=max(self._max_points // n_f_guess, 2), spans=spans)
        if db.size > self._max_points:  # a finer frequency grid than guessed: keep every k-th column
            cols = _thin(t.size, max(self._max_points // max(f.size, 1), 2))
            t, db = t[cols], db[:, cols]
        rel = db - np.median(db, axis=1, keepdims=True)
        return self._t0 + ia / self._fs + t, f, rel, _TF_TITLE

    # -- events and public controls ----------------------------------------------------------------------
    def _on_range(self, layout, xrange) -> None:
        if xrange is None or len(xrange) != 2:
            return
        a, b = sorted(float(x) for x in xrange)
        tol = 0.5 / self._fs
        if abs(a - self.view_s[0]) < tol and abs(b - self.view_s[1]) < tol:
            return
        self._render(a, b)

    def _on_autorange(self, layout, autorange) -> None:
        if autorange is True or autorange == "true":
            self._render(self._t0, self._t0 + (self._n - 1) / self._fs)

    def zoom(self, start_s: float, end_s: float) -> None:
        """Show the time range [`start_s`, `end_s`] (s, same clock as the tables) at full resolution."""
        a, b = float(start_s), float(end_s)
        if not (np.isfinite(a) and np.isfinite(b) and a < b):
            raise ValueError(f"`start_s` must be finite and below `end_s`; got {start_s!r}, {end_s!r}")
        self.figure.layout.xaxis.range = (a, b)
        self.figure.layout.xaxis2.range = (a, b)

    def show_episode(self, i: int, pad_s: float | None = None) -> None:
        """Zoom on SSO episode `i` (row of `episodes`) with `pad_s` of context each side (default: the
        episode's duration, at least 0.2 s)."""
        if not 0 <= int(i) < len(self.episodes):
            raise IndexError(f"`i` must be in [0, {len(self.episodes)}); got {i!r}")
        s, e = self._ep_start[int(i)], self._ep_end[int(i)]
        pad = max(e - s, 0.2) if pad_s is None else float(pad_s)
        self.zoom(s - pad, e + pad)

    def points_sent(self) -> dict:
        """Points each trace currently holds (what the browser receives), by trace name: samples for
        lines and markers, bars for episodes, cells for the heatmap."""
        out = {}
        for key, t in zip(self._keys, self.figure.data):
            if t.type == "heatmap":
                out[key] = 0 if t.z is None else int(np.size(t.z))
            else:
                out[key] = 0 if t.x is None else int(np.size(t.x))
        return out

    def __repr__(self) -> str:  # ipywidgets cuts the text form of a widget at 110 characters
        return (f"SweepViewer(view {self.view_s[0]:.2f}–{self.view_s[1]:.2f} s of {self._n / self._fs:.1f} s, "
                f"{self.points_sent()['Vm']:,}/{self._n:,} samples drawn, {len(self.episodes)} SSO episodes, "
                f"{len(self.spikes)} spikes)")


def header_html(title: str, tooltip: str, lines: list, flags, channel_report) -> str:
    """The viewer's header: a title, summary lines, QC flags (when the table has them) and the channel
    report (when the recording was loaded here)."""
    parts = [f'<div style="font-family:sans-serif;font-size:13px"><b title="{html.escape(tooltip)}">'
             f"{html.escape(title)}</b>"]
    parts += [f"<br>{html.escape(line)}" for line in lines]
    if flags is not None:
        body = ", ".join(f'<span style="color:#b00020;font-weight:bold">{html.escape(f)}</span>' for f in flags) \
            if flags else "none"
        parts.append(f"<br>QC flags: {body}")
    if channel_report is not None and len(channel_report):
        parts.append("<details><summary>channel report (how the membrane-potential channel was chosen)"
                     "</summary>" + channel_report.to_html(index=False, border=0) + "</details>")
    parts.append('<br><small style="color:#555">Drag to zoom (the trace is redrawn from the full-resolution '
                 "samples under the view), double-click to reset; hover an orange band for the episode's "
                 "measures.</small></div>")
    return "".join(parts)
