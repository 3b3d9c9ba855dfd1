"""Write the tutorial notebooks in notebooks/ from the cell sources below (outputs stripped).

Run: python scripts/build_notebooks.py   (the notebooks are executed by the test suite through nbmake)
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parents[1] / "notebooks"

FIND_ROOT = '''from pathlib import Path
ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "sample_data").is_dir())
SAMPLE = ROOT / "sample_data"'''

NOTEBOOKS = {
    "01_quickstart": [
        ("md", "# drgephys quick start\n\nLoad a recording, analyse it, look at the three tables and the QC "
               "figure. The sample recordings in `sample_data/` come from the project's simulator, with their "
               "ground truth beside them (`*.truth.json`)."),
        ("code", FIND_ROOT + "\nimport matplotlib\nmatplotlib.use('Agg')\nimport drgephys\n"
                 "files = sorted(SAMPLE.glob('*.abf')) + sorted(SAMPLE.glob('*.nwb'))\n[f.name for f in files]"),
        ("md", "## Load\n`drgephys.load` reads any format neo reads, finds the membrane-potential channel and "
               "reports how it chose it."),
        ("code", "rec = drgephys.load(files[0])\nprint(rec)\nrec.channel_report"),
        ("code", "tr = rec[0]\ntr.fs, tr.duration_s, tr.v[:5]"),
        ("md", "## Analyse\n`drgephys.analyze` returns the per-sweep summary, one row per SSO episode and one row "
               "per spike. In Jupyter the result shows an HTML summary."),
        ("code", "res = drgephys.analyze(files[0])\nres"),
        ("code", "res.recordings.T"),
        ("code", "res.oscillations.head()"),
        ("code", "res.spikes.head()"),
        ("md", "## Quality control\nThe trace with SSO episodes shaded and spikes marked, the spectrogram in the SSO "
               "band, and the ISI histogram."),
        ("code", "from drgephys.plotting.qc import qc_figure\nfig = qc_figure(tr, res)"),
        ("md", "## Compare with the ground truth\nThe simulator wrote the truth next to each file; "
               "`drgephys.sim.score` measures the analysis against it."),
        ("code", "import json\nfrom drgephys.sim import score, truth_path\ntruth = json.loads(truth_path(files[0]).read_text())\n"
                 "{k: v for k, v in score(truth, res).items() if not isinstance(v, (list, dict))}"),
        ("md", "## A whole folder\nThe command line does the same for folders: "
               "`drgephys analyze sample_data --out results --groups sample_data/groups.csv`."),
        ("code", "from drgephys.batch import analyze_paths\nbatch = analyze_paths(SAMPLE, groups=SAMPLE / 'groups.csv', "
                 "progress=True)\nbatch.recordings[['file', 'status', 'group', 'sso_detected', 'sso_frequency_hz', "
                 "'spike_count', 'firing_pattern']]"),
    ],
    "02_oscillations_explained": [
        ("md", "# How the SSO detector works, step by step\n\n`drgephys.oscillations.explain_oscillations` runs the "
               "detector and keeps every intermediate step. We follow one simulated recording (SSO episodes, spikes "
               "with afterhyperpolarizations, 50 Hz mains hum, 1/f noise) whose truth is known, then a sample "
               "recording, then see how parameters change the answer."),
        ("code", FIND_ROOT + "\nimport matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
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
        ("code", "spk = detect_spikes(sim.v, sim.fs)\nst = explain_oscillations(sim.v, sim.fs, spikes=spk)\n"
                 "tw = np.arange(st['filled_mv'].size) / st['working_fs_hz']\n"
                 "fig, ax = plt.subplots(figsize=(10, 2.5))\nax.plot(t, sim.v, lw=0.4, color='0.7', label='raw')\n"
                 "ax.plot(tw, st['filled_mv'], lw=0.6, label=f\"spikes bridged, decimated to {st['working_fs_hz']:.0f} Hz\")\n"
                 "ax.set_ylim(np.percentile(sim.v, 0.5) - 2, np.percentile(sim.v, 99) + 2)\nax.legend(loc='upper right');"),
        ("md", "## 2–4. Reduced rate, drift removed, mains hum removed\nThe trace is decimated (anti-aliased) to about "
               "3× the band top, drift is removed with a running median (current steps leave no ringing), and mains "
               "lines are subtracted only where they are phase-stable through the whole recording — an SSO at the "
               "same frequency waxes and wanes, hum does not."),
        ("code", "print('hum lines removed:', [(round(l['frequency_hz'], 2), round(l['amplitude_mv'], 3)) "
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
        ("code", "fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.2), gridspec_kw={'width_ratios': [3, 1]})\n"
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
        ("md", "# Injury comparison\n\nSimulate a cohort (control vs injured, several animals each), analyse it as a "
               "lab would, then compare groups: SSO prevalence, and SSO frequency raw and at matched membrane "
               "potential, with animal→cell hierarchical bootstrap confidence intervals."),
        ("code", "import matplotlib\nmatplotlib.use('Agg')\nimport tempfile\nfrom pathlib import Path\n"
                 "from drgephys.sim import CohortSpec, simulate_cohort\n"
                 "out = Path(tempfile.mkdtemp())\n"
                 "spec = CohortSpec(animals_per_group=3, cells_per_animal=3, duration_s=8.0)\n"
                 "truth = simulate_cohort(spec, seed=7, out_dir=out / 'data')\ntruth.head()"),
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
        ("code", "import matplotlib.pyplot as plt\nfrom drgephys.plotting.comparison import plot_frequency_vs_vm, "
                 "plot_prevalence\nfig, axes = plt.subplots(1, 2, figsize=(10, 3.5))\n"
                 "plot_frequency_vs_vm(res.oscillations, res.recordings, by='group', ax=axes[0])\n"
                 "plot_prevalence(cmp, ax=axes[1]);"),
        ("md", "## Report\n`drgephys report RESULTS_DIR` writes one self-contained HTML page with these tables and "
               "figures plus per-recording QC figures."),
        ("code", "from drgephys.report import build_report\nbuild_report(out / 'results', max_recordings=2)"),
    ],
    "04_spike_classification": [
        ("md", "# Spikes: AP features, SSO trigger and discharge pattern\n\nDetect spontaneous spikes, look at their "
               "features, see which ones arise from SSO peaks, and train the discharge-pattern classifier on "
               "labelled cells."),
        ("code", "import matplotlib\nmatplotlib.use('Agg')\nimport numpy as np\nimport pandas as pd\n"
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
        ("code", "from sklearn.model_selection import cross_val_predict, StratifiedKFold\n"
                 "from sklearn.metrics import balanced_accuracy_score, confusion_matrix, ConfusionMatrixDisplay\n"
                 "clf = DischargePatternClassifier()\n"
                 "pred = cross_val_predict(clf, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0))\n"
                 "print('balanced accuracy', balanced_accuracy_score(y, pred))\n"
                 "ConfusionMatrixDisplay.from_predictions(y, pred);"),
        ("code", "clf.fit(X, y)\nclf2 = DischargePatternClassifier.from_json(clf.to_json())\n"
                 "assert (clf2.predict(X) == clf.predict(X)).all()\nlen(clf.to_json())"),
    ],
    "05_pipeline_integration": [
        ("md", "# Pipelines: neo, elephant, scikit-learn and NWB\n\ndrgephys takes neo objects in and gives neo "
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


def build(name: str, cells) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells]
    for i, cell in enumerate(nb.cells):  # stable ids: rebuilding gives byte-identical files
        cell["id"] = f"{name[:2]}-{i:02d}"
    return nb


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nbformat.write(build(name, cells), HERE / f"{name}.ipynb")
        print("wrote", HERE / f"{name}.ipynb")


if __name__ == "__main__":
    main()
