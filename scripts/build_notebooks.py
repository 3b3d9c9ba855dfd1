"""Write the tutorial notebooks in notebooks/ from the cell sources below, executed, with their outputs.

Run: ``python scripts/build_notebooks.py`` (needs the test or notebook extra: nbclient, ipykernel,
ipywidgets, plotly...). Each notebook is executed in a fresh Jupyter kernel the way Jupyter runs it (no
``MPLBACKEND`` in the kernel's environment, so matplotlib draws inline), and written with its outputs, so
that it reads well when browsed. Outputs kept small: PNG figures at the inline backend's dpi, no widget state
(live widgets — progress bars, the viewer — keep their text form only; they come alive when the cell is run).
Cells of kind ``"fig"`` are tagged ``figure``: ``tests/test_notebooks.py`` re-executes every notebook and
fails when such a cell produces no image.
"""

from __future__ import annotations

import argparse
import copy
import os
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parents[1] / "notebooks"

FIND_ROOT = '''import os
from pathlib import Path
ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "sample_data").is_dir())
SAMPLE = Path(os.path.relpath(ROOT / "sample_data"))  # e.g. ../sample_data from notebooks/'''

NOTEBOOKS = {
    "01_quickstart": [
        ("md", "# drgephys quick start\n\n**What you will learn:** load a recording and see how drgephys chose its "
               "membrane-potential channel; analyse it into three tables (sweeps, SSO episodes, spikes); check the "
               "result on a QC figure and in the interactive viewer; score it against the simulator's ground "
               "truth; analyse a whole folder.\n\nThe sample recordings in `sample_data/` come from the project's "
               "simulator, with their ground truth beside them (`*.truth.json`). We use `injured_sso_bursting.abf`, "
               "an injured cell with subthreshold oscillation (SSO) episodes and spikes launched from SSO peaks."),
        ("code", FIND_ROOT + "\nimport drgephys\n"
                 "files = sorted(SAMPLE.glob('*.abf')) + sorted(SAMPLE.glob('*.nwb'))\nprint([f.name for f in files])\n"
                 "CELL = SAMPLE / 'injured_sso_bursting.abf'"),
        ("md", "## Load\n`drgephys.load` reads any format neo reads, finds the membrane-potential channel and "
               "reports how it chose it."),
        ("code", "rec = drgephys.load(CELL)\nprint(rec)\nrec.channel_report"),
        ("code", "tr = rec[0]\ntr.fs, tr.duration_s, tr.v[:5]"),
        ("md", "## Analyse\n`drgephys.analyze` returns the per-sweep summary, one row per SSO episode and one row "
               "per spike. In Jupyter the result shows an HTML summary."),
        ("code", "res = drgephys.analyze(CELL)\nres"),
        ("code", "res.recordings.T"),
        ("md", "Each SSO episode: when, its frequency (Hz), peak-to-peak amplitude (mV), number of cycles, mean "
               "membrane potential, and quality measures (power over the 1/f background, regularity, "
               "sinusoidality)."),
        ("code", "res.oscillations[['start_s', 'end_s', 'frequency_hz', 'amplitude_mv', 'n_cycles', 'mean_vm_mv', "
                 "'power_db', 'sinusoidality']].round(3)"),
        ("md", "Each spike: its timing, AP features and its **trigger** — `oscillation` when it rose from an SSO "
               "peak, `other` otherwise."),
        ("code", "res.spikes[['peak_s', 'threshold_mv', 'peak_mv', 'half_width_ms', 'ahp_mv', 'trigger', "
                 "'sso_phase_rad']].round(3).head(8)"),
        ("md", "## Quality control\nThe trace with SSO episodes shaded and spikes marked, the spectrogram in the SSO "
               "band (SSO episodes are the bright band near 50 Hz; spikes are the vertical stripes), and the ISI "
               "histogram (bursts give short intervals)."),
        ("fig", "from drgephys.plotting import qc_figure\nfig = qc_figure(tr, res)"),
        ("md", "## Look at it interactively\n`drgephys.plotting.browse` shows the whole sweep in a widget: drag to "
               "zoom (the trace is redrawn at full resolution under the view, so hour-long recordings stay fluid), "
               "hover an orange band for the episode's frequency, amplitude and cycles, spikes are coloured by "
               "trigger, and the lower panel is the time–frequency power of the view with each episode's frequency "
               "on top. It needs the viewer extra (`pip install -e \".[notebook]\"` installs it with JupyterLab). "
               "Run the cell to get the live widget — a notebook read on a web page shows only its one-line "
               "summary."),
        ("code", "from drgephys.plotting import browse\nviewer = browse(CELL, result=res)\nviewer"),
        ("md", "From code, `viewer.zoom(start_s, end_s)` or `viewer.show_episode(i)` moves the view (the widget "
               "above follows)."),
        ("code", "viewer.show_episode(0)\nviewer"),
        ("md", "## Compare with the ground truth\nThe simulator wrote the truth next to each file; "
               "`drgephys.sim.score` measures the analysis against it (F1 of episodes and spikes, frequency error, "
               "trigger and pattern accuracy)."),
        ("code", "import json\nfrom drgephys.sim import score, truth_path\ntruth = json.loads(truth_path(CELL).read_text())\n"
                 "sc = score(truth, res)\n{k: round(sc[k], 3) for k in ['episode_f1', 'frequency_error_median_hz', "
                 "'amplitude_rel_error_median', 'spike_f1', 'spike_timing_error_median_ms', "
                 "'trigger_balanced_accuracy', 'pattern_balanced_accuracy']}"),
        ("md", "## A whole folder\nThe command line does the same for folders: "
               "`drgephys analyze sample_data --out results --groups sample_data/groups.csv`, then "
               "`drgephys report results` for an HTML page. From Python, with a progress bar:"),
        ("code", "from drgephys.batch import analyze_paths\nbatch = analyze_paths(SAMPLE, groups=SAMPLE / 'groups.csv', "
                 "progress=True)\nbatch.recordings[['file', 'status', 'group', 'sso_detected', 'sso_frequency_hz', "
                 "'spike_count', 'firing_pattern']]"),
    ],
    "02_oscillations_explained": [
        ("md", "# How the SSO detector works, step by step\n\n**What you will learn:** why spikes are removed "
               "before any spectrum, how mains hum is told apart from an SSO, how the 1/f background and the BOSC "
               "threshold decide what counts as an oscillation, where each episode's measures come from, and how "
               "parameters change the answer.\n\n`drgephys.oscillations.explain_oscillations` runs the "
               "detector and keeps every intermediate step. We follow one simulated recording (SSO episodes, spikes "
               "with afterhyperpolarizations, 50 Hz mains hum, 1/f noise) whose truth is known, then a sample "
               "recording, then see how parameters change the answer."),
        ("fig", FIND_ROOT + "\nimport matplotlib.pyplot as plt\n"
                 "import numpy as np\nimport drgephys\nfrom drgephys.sim import simulate_trace\n"
                 "from drgephys.spikes import detect_spikes\n"
                 "from drgephys.oscillations import explain_oscillations, OscillationParams\n"
                 "sim = simulate_trace(duration_s=12.0, fs_hz=20000.0, sso=True, sso_time_fraction=0.4, hum_hz=50, "
                 "pattern='irregular', rate_hz=2.0, seed=12)\n"
                 "t = np.arange(sim.v.size) / sim.fs\nfig, ax = plt.subplots(figsize=(10, 2.5))\n"
                 "ax.plot(t, sim.v, lw=0.5)\nfor e in sim.truth['episodes']:\n"
                 "    ax.axvspan(e['start_s'], e['end_s'], color='orange', alpha=0.3)\n"
                 "ax.set(xlabel='time (s)', ylabel='Vm (mV)', title='simulated recording, true SSO episodes shaded');"),
        ("md", "## 1. Spikes and their afterhyperpolarizations are removed first\nSpikes leak broadband power into any "
               "spectrum, and AHP tails of a regularly firing cell make lines at multiples of its rate. Each spike's "
               "`[threshold_index, end_index]` span (threshold to AHP recovery) is bridged by a straight line and "
               "masked."),
        ("fig", "spk = detect_spikes(sim.v, sim.fs)\nst = explain_oscillations(sim.v, sim.fs, spikes=spk)\n"
                 "tw = np.arange(st['filled_mv'].size) / st['working_fs_hz']\n"
                 "fig, ax = plt.subplots(figsize=(10, 2.5))\nax.plot(t, sim.v, lw=0.4, color='0.7', label='raw')\n"
                 "ax.plot(tw, st['filled_mv'], lw=0.6, label=f\"spikes bridged, decimated to {st['working_fs_hz']:.0f} Hz\")\n"
                 "ax.set_ylim(np.percentile(sim.v, 0.5) - 2, np.percentile(sim.v, 99) + 2)\nax.legend(loc='upper right');"),
        ("md", "## 2–4. Reduced rate, drift removed, mains hum removed\nThe trace is decimated (anti-aliased) to about "
               "3× the band top, drift is removed with a running median (current steps leave no ringing), and mains "
               "lines are subtracted only where they are phase-stable through the whole recording — an SSO at the "
               "same frequency waxes and wanes, hum does not."),
        ("fig", "print('hum lines removed:', [(round(l['frequency_hz'], 2), round(l['amplitude_mv'], 3)) "
                 "for l in st['mains_lines']])\nfrom scipy.signal import welch\n"
                 "f1, p1 = welch(st['filled_mv'] - st['filled_mv'].mean(), st['working_fs_hz'], nperseg=1024)\n"
                 "f2, p2 = welch(st['residual_mv'], st['working_fs_hz'], nperseg=1024)\n"
                 "fig, ax = plt.subplots(figsize=(6, 3))\nax.loglog(f1[1:], p1[1:], label='bridged')\n"
                 "ax.loglog(f2[1:], p2[1:], label='drift and hum removed')\nax.set(xlabel='Hz', ylabel='mV²/Hz');"
                 "\nax.legend();"),
        ("md", "## 5. Time–frequency power, 1/f background, BOSC threshold\nMorlet wavelets (6 cycles) give power at "
               "each time and frequency; a straight line in log–log fitted to the median power over time is the "
               "aperiodic background; the threshold is the 95th percentile of χ²(2)·background/2 (≈3× background). "
               "An episode must stay above it for ≥ 3 cycles."),
        ("fig", "fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.2), gridspec_kw={'width_ratios': [3, 1]})\n"
                 "a.pcolormesh(tw, st['freqs_hz'], 10 * np.log10(st['power'] / st['background'][:, None]), "
                 "shading='auto', vmin=-10, vmax=20, cmap='magma')\na.set(yscale='log', xlabel='time (s)', "
                 "ylabel='Hz', title='power over background (dB)')\n"
                 "b.loglog(st['freqs_hz'], np.median(st['power'], axis=1), label='median power')\n"
                 "b.loglog(st['freqs_hz'], st['background'], label='1/f fit')\n"
                 "b.loglog(st['freqs_hz'], st['threshold'], '--', label='threshold')\nb.legend(fontsize=7);"),
        ("md", "## 6. Episodes and their measures\nEach episode gets its frequency from the wavelet phase (sub-bin "
               "precision), its amplitude from the 90th percentile of cycle peak-to-peak, the mean membrane potential "
               "without spikes, and quality measures — power over background, period and amplitude regularity, "
               "sinusoidality — so that filtered noise is not taken for an oscillator."),
        ("code", "from drgephys.sim import score\nprint({k: round(v, 3) for k, v in score(sim.truth, {'oscillations': "
                 "st['episodes'], 'spikes': spk}).items() if k.startswith(('episode', 'frequency', 'amplitude'))})\n"
                 "st['episodes']"),
        ("md", "## Parameters change the answer\nParameters live in a frozen dataclass saved with every result. A "
               "stricter sinusoidality minimum or a narrower band drops episodes; here a band that stops at 40 Hz "
               "misses the ~45 Hz SSOs."),
        ("code", "import dataclasses\nfor p in [OscillationParams(), OscillationParams(min_sinusoidality=0.9), "
                 "OscillationParams(band_hz=(10.0, 40.0))]:\n"
                 "    ep = explain_oscillations(sim.v, sim.fs, spikes=spk, params=p)['episodes']\n"
                 "    changed = {k: v for k, v in dataclasses.asdict(p).items() if v != getattr(OscillationParams(), k)}\n"
                 "    print(changed or 'defaults', '→', len(ep), 'episodes')"),
        ("md", "## A sample recording\nThe same steps on `sample_data/injured_irregular_hum60.nwb` (60 Hz hum, SSOs, "
               "irregular firing)."),
        ("code", "rec = drgephys.load(SAMPLE / 'injured_irregular_hum60.nwb')\ntr = rec[0]\n"
                 "st2 = explain_oscillations(tr.v, tr.fs)\n"
                 "print('hum:', [round(l['frequency_hz'], 2) for l in st2['mains_lines']])\nst2['episodes']"),
    ],
    "03_injury_comparison": [
        ("md", "# Injury comparison\n\n**What you will learn:** analyse a cohort folder with group labels, "
               "compare injured and control cells with confidence intervals that respect the animal→cell "
               "hierarchy, compare SSO frequency at a matched membrane potential, and write the HTML report.\n\n"
               "Simulate a cohort (control vs injured, several animals each), analyse it as a "
               "lab would, then compare groups: SSO prevalence, and SSO frequency raw and at matched membrane "
               "potential, with animal→cell hierarchical bootstrap confidence intervals."),
        ("code", "import tempfile\nfrom pathlib import Path\n"
                 "from drgephys.sim import CohortSpec, simulate_cohort\n"
                 "out = Path(tempfile.mkdtemp())\n"
                 "spec = CohortSpec(animals_per_group=3, cells_per_animal=3, duration_s=6.0, fs_choices_hz=(10000.0, 20000.0))\n"
                 "truth = simulate_cohort(spec, seed=11, out_dir=out / 'data')\n"
                 "truth.groupby('group').agg(cells=('file', 'size'), sso_cells=('sso_cell', 'sum'), "
                 "resting_vm_mv=('resting_vm_mv', 'mean')).round(1)"),
        ("md", "With 9 cells per group chance matters: the spec's SSO prevalence is 5 % (control) and 30 % "
               "(injured), and this seed drew 1 and 4 SSO cells. Other seeds give other cohorts — which is why the "
               "comparison below reports intervals over animals and cells, not just means."),
        ("code", "from drgephys.batch import analyze_paths, write_tables\n"
                 "res = analyze_paths(out / 'data', groups=out / 'data' / 'groups.csv', progress=True)\n"
                 "write_tables(res, out / 'results')\n"
                 "res.recordings.groupby('group')[['sso_detected', 'sso_frequency_hz', 'resting_vm_mv']].mean()"),
        ("code", "from drgephys.stats import compare_groups\n"
                 "cmp = compare_groups(res.recordings, res.oscillations, by='group', cluster='animal', n_boot=500, "
                 "n_perm=500, seed=0)\ncmp[['metric', 'group', 'reference', 'estimate', 'ci_low', 'ci_high', "
                 "'p_value']]"),
        ("md", "## Figures\nFrequency against membrane potential per group with the fits used for the matched "
               "estimate, and prevalence with confidence intervals."),
        ("fig", "import matplotlib.pyplot as plt\nfrom drgephys.plotting.comparison import plot_frequency_vs_vm, "
                 "plot_prevalence\nfig, axes = plt.subplots(1, 2, figsize=(10, 3.5))\n"
                 "plot_frequency_vs_vm(res.oscillations, res.recordings, by='group', ax=axes[0])\n"
                 "plot_prevalence(cmp, ax=axes[1]);"),
        ("md", "## Report\n`drgephys report RESULTS_DIR` writes one self-contained HTML page: a sortable table of "
               "the sweeps, these comparisons, and QC figures for the sweeps that matter first (SSO cells, then "
               "flagged sweeps, then a random sample), linked from the table."),
        ("code", "from drgephys.report import build_report, select_qc_sweeps\n"
                 "page = build_report(out / 'results', max_recordings=4)\nprint(page.name, f'{page.stat().st_size / 1e6:.1f} MB')\n"
                 "select_qc_sweeps(res.recordings, 4)[['file', 'sso_detected', 'reason']]"),
    ],
    "04_spike_classification": [
        ("md", "# Spikes: AP features, SSO trigger and discharge pattern\n\n**What you will learn:** detect "
               "spontaneous spikes and read their features, see which ones arise from SSO peaks, and train and "
               "cross-validate the discharge-pattern classifier on labelled cells."),
        ("code", "import numpy as np\nimport pandas as pd\n"
                 "from drgephys.sim import simulate_trace\nfrom drgephys.spikes import detect_spikes, "
                 "classify_triggers\nfrom drgephys.oscillations import detect_oscillations\n"
                 "sim = simulate_trace(duration_s=10.0, fs_hz=20000.0, sso=True, pattern='bursting', seed=3)\n"
                 "spk = detect_spikes(sim.v, sim.fs)\nspk[['peak_s', 'threshold_mv', 'peak_mv', 'half_width_ms', "
                 "'ahp_mv', 'max_dvdt_mv_per_ms']].describe()"),
        ("code", "epi = detect_oscillations(sim.v, sim.fs, spikes=spk)\nspk = classify_triggers(sim.v, sim.fs, spk, epi)\n"
                 "spk['trigger'].value_counts()"),
        ("md", "## Discharge features and the classifier\nThe features come from elephant (CV, CV2, LV) plus burst and "
               "SSO-locking measures. The shipped model is plain JSON; here we train a new one on simulated "
               "labelled cells and cross-validate it."),
        ("code", "from drgephys.sim import spike_train\nfrom drgephys.sim.cohort import RATE_RANGE_HZ\n"
                 "from drgephys.spikes import discharge_features, DischargePatternClassifier\n"
                 "from drgephys.spikes.discharge import feature_vector\n"
                 "rng = np.random.default_rng(0)\nX, y = [], []\n"
                 "for pattern in ['tonic', 'bursting', 'irregular']:\n"
                 "    for i in range(40):\n"
                 "        rate = float(rng.uniform(*RATE_RANGE_HZ[pattern]))\n"
                 "        st = spike_train(pattern, 60.0, rate_hz=rate, seed=int(rng.integers(1e9)))\n"
                 "        X.append(feature_vector(discharge_features(st, 60.0)))\n        y.append(pattern)\n"
                 "X = np.asarray(X)\nX = np.where(np.isfinite(X), X, 0.0)\nX.shape"),
        ("fig", "from sklearn.model_selection import cross_val_predict, StratifiedKFold\n"
                 "from sklearn.metrics import balanced_accuracy_score, confusion_matrix, ConfusionMatrixDisplay\n"
                 "clf = DischargePatternClassifier()\n"
                 "pred = cross_val_predict(clf, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0))\n"
                 "print('balanced accuracy', balanced_accuracy_score(y, pred))\n"
                 "ConfusionMatrixDisplay.from_predictions(y, pred);"),
        ("code", "clf.fit(X, y)\nclf2 = DischargePatternClassifier.from_json(clf.to_json())\n"
                 "assert (clf2.predict(X) == clf.predict(X)).all()\nlen(clf.to_json())"),
    ],
    "05_pipeline_integration": [
        ("md", "# Pipelines: neo, elephant, scikit-learn and NWB\n\n**What you will learn:** hand drgephys a "
               "neo Segment and get spike trains and epochs back for elephant, put its features in a scikit-learn "
               "pipeline, and store its tables in an NWB file.\n\ndrgephys takes neo objects in and gives neo "
               "objects back, so elephant works on its spike trains; its transformers fit scikit-learn pipelines; "
               "its tables go into NWB files."),
        ("code", "import numpy as np\nimport neo\nimport quantities as pq\nimport drgephys\n"
                 "from drgephys.sim import simulate_trace\n"
                 "sim = simulate_trace(duration_s=10.0, fs_hz=20000.0, pattern='irregular', rate_hz=4.0, sso=True, seed=5)\n"
                 "seg = neo.Segment()\nseg.analogsignals.append(neo.AnalogSignal(sim.v[:, None], units='mV', "
                 "sampling_rate=sim.fs * pq.Hz))\n"
                 "from drgephys.interop import annotate\nres = annotate(seg)\nseg.spiketrains[0], seg.epochs[0]"),
        ("code", "import warnings\nimport elephant.statistics as es\nwith warnings.catch_warnings():\n"
                 "    warnings.simplefilter('ignore')\n    st = seg.spiketrains[0]\n"
                 "    print('rate', es.mean_firing_rate(st).rescale('Hz'), 'CV', es.cv(es.isi(st)))"),
        ("md", "## scikit-learn\n`OscillationFeatures` and `SpikeTrainFeatures` turn a list of traces into a feature "
               "matrix."),
        ("code", "from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import StandardScaler\n"
                 "from sklearn.linear_model import LogisticRegression\nfrom sklearn.model_selection import "
                 "cross_val_score\nfrom drgephys.interop import OscillationFeatures\n"
                 "traces, labels = [], []\nfor i in range(12):\n    has = i % 2 == 0\n"
                 "    s = simulate_trace(duration_s=4.0, fs_hz=10000.0, sso=has, sso_time_fraction=0.5, seed=100 + i)\n"
                 "    traces.append(drgephys.Trace(s.v, s.fs))\n    labels.append(int(has))\n"
                 "pipe = make_pipeline(OscillationFeatures(), StandardScaler(), LogisticRegression())\n"
                 "cross_val_score(pipe, traces, labels, cv=3)"),
        ("md", "## NWB\nThe tables go into an NWB processing module and come back identical."),
        ("code", "import datetime, tempfile\nfrom pathlib import Path\nfrom pynwb import NWBFile, NWBHDF5IO\n"
                 "from drgephys.interop import to_nwb, from_nwb\n"
                 "nwb = NWBFile(session_description='drgephys demo', identifier='demo', "
                 "session_start_time=datetime.datetime.now(datetime.timezone.utc))\nto_nwb(res, nwb)\n"
                 "path = Path(tempfile.mkdtemp()) / 'demo.nwb'\nwith NWBHDF5IO(str(path), 'w') as io:\n"
                 "    io.write(nwb)\nwith NWBHDF5IO(str(path), 'r') as io:\n    back = from_nwb(io.read())\n"
                 "back['spikes'].head()"),
    ],
}


FIGURE_TAG = "figure"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def build(name: str, cells) -> nbformat.NotebookNode:
    """The notebook `name` from (kind, source) cells; kind ``"fig"`` is a code cell tagged ``figure``."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells]
    for i, ((kind, _), cell) in enumerate(zip(cells, nb.cells)):  # stable ids: rebuilding gives the same cells
        cell["id"] = f"{name[:2]}-{i:02d}"
        if kind == "fig":
            cell.metadata["tags"] = [FIGURE_TAG]
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path, *, timeout_s: float = 600) -> float:
    """Run `nb` in place in a fresh python3 kernel started in `cwd`, as Jupyter would: ``MPLBACKEND`` is
    removed from the kernel's environment (CI sets it to Agg for the tests, which would turn inline figures
    off). Returns the wall time in s."""
    from nbclient import NotebookClient

    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    client = NotebookClient(nb, timeout=int(timeout_s), kernel_name="python3", record_timing=False,
                            store_widget_state=False, resources={"metadata": {"path": str(cwd)}})
    t = time.perf_counter()
    client.execute(env=env)
    return time.perf_counter() - t


def figure_cells_without_image(nb: nbformat.NotebookNode) -> list:
    """Ids of the cells tagged ``figure`` that have no ``image/png`` output."""
    return [c.get("id", str(i)) for i, c in enumerate(nb.cells)
            if FIGURE_TAG in c.get("metadata", {}).get("tags", [])
            and not any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]


def stderr_outputs(nb: nbformat.NotebookNode) -> list:
    """(cell id, text) of every output written to stderr (warnings, log lines)."""
    return [(c.get("id"), o.get("text", "")) for c in nb.cells for o in c.get("outputs", [])
            if o.get("output_type") == "stream" and o.get("name") == "stderr"]


def for_commit(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy fit to commit, without widget state (not stored: a page would show "model not found"
    instead): a widget that is a cell's value (the viewer) keeps its text form; widgets displayed on the way
    (progress bars, whose text is frozen at 0 %) are dropped."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.outputs:
            data = out.get("data")
            if data and WIDGET_MIME in data:
                if out.output_type != "execute_result":
                    continue
                del data[WIDGET_MIME]
            kept.append(out)
        cell.outputs = kept
    return nb


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="write the tutorial notebooks, executed with their outputs")
    ap.add_argument("--no-execute", action="store_true", help="write them without outputs")
    ap.add_argument("names", nargs="*", help="notebook names (default: all)")
    args = ap.parse_args(argv)
    HERE.mkdir(exist_ok=True)
    bad = 0
    for name, cells in NOTEBOOKS.items():
        if args.names and name not in args.names:
            continue
        nb = build(name, cells)
        if not args.no_execute:
            seconds = execute(nb, HERE)
            missing, err = figure_cells_without_image(nb), stderr_outputs(nb)
            print(f"{name}: executed in {seconds:.1f} s; figure cells without image: {missing or 'none'}; "
                  f"stderr outputs: {len(err)}")
            bad += bool(missing or err)
            nb = for_commit(nb)
        path = HERE / f"{name}.ipynb"
        nbformat.write(nb, path)
        print("wrote", path, f"({path.stat().st_size / 1e3:.0f} kB)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
