"""A batch killed with SIGKILL and resumed writes the bytes of an uninterrupted run, file for file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

#: The killed run goes through the real command line with each file's analysis delayed by this much
#: (`analyze_job` wrapped by a sleep), so that the kill lands between files whatever the machine's speed.
DELAY_S = 0.4
N_RECORDINGS = 8

SLOW_CLI = (f"import sys, time\nimport drgephys.batch as b\nslow = b.analyze_job\n"
            f"b.analyze_job = lambda *a, **k: (time.sleep({DELAY_S}), slow(*a, **k))[1]\n"
            "from drgephys.cli import main\nsys.exit(main(sys.argv[1:]))\n")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Eight simulated recordings (SSOs, firing), a corrupt file, a note and a groups table."""
    from drgephys.sim import simulate_trace, write_abf

    d = tmp_path_factory.mktemp("resume")
    rows = ["file,group,animal"]
    for i in range(N_RECORDINGS):
        sim = simulate_trace(duration_s=6.0, fs_hz=20000.0, sso=i % 2 == 0, pattern=("tonic", "irregular")[i % 2],
                             seed=300 + i)
        write_abf(d / f"cell_{i}.abf", sim.v, sim.fs, truth=sim.truth)
        rows.append(f"cell_{i}.abf,{('control', 'injured')[i % 2]},A{i // 2}")
    (d / "groups.csv").write_text("\n".join(rows) + "\n")
    (d / "broken.abf").write_bytes(b"ABF2" + b"\x00" * 300)
    (d / "notes.txt").write_text("a lab note, not a recording\n")
    return d


def _files(folder: Path) -> dict:
    """Every file under `folder` (cache entries included) by relative path: its bytes; params.json with the
    command line (which names the --out folder) removed."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if p.name == "params.json":
                payload = json.loads(data)
                payload.pop("command")
                data = json.dumps(payload, indent=2).encode()
            out[p.relative_to(folder).as_posix()] = data
    return out


def _children(pid: int) -> list:
    """Process ids of `pid`'s children (Linux /proc; empty elsewhere)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_sigkill_then_resume_writes_the_bytes_of_an_uninterrupted_run(folder, tmp_path):
    args = ["analyze", str(folder), "--groups", str(folder / "groups.csv"), "--quiet"]
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    fresh = subprocess.run([sys.executable, "-m", "drgephys.cli", *args, "--out", str(clean)], timeout=600)
    assert fresh.returncode == 1                     # broken.abf is refused
    proc = subprocess.Popen([sys.executable, "-c", SLOW_CLI, *args, "--out", str(killed)])
    cache = killed / ".drgephys-cache"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if cache.is_dir() and len(list(cache.glob("*.json"))) >= 2:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed"
    workers = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if sys.platform.startswith("linux"):             # its worker processes end with it, none left waiting
        assert workers, "the batch runs one worker process per core"
        deadline = time.time() + 10
        while time.time() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.05)
        assert [w for w in workers if _alive(w)] == []
    done = len(list(cache.glob("*.json")))
    n_jobs = len(list((clean / ".drgephys-cache").glob("*.json")))
    assert 2 <= done < n_jobs                        # killed mid-run: some files done, some not
    assert not (killed / "recordings.csv").exists()
    resumed = subprocess.run([sys.executable, "-m", "drgephys.cli", *args, "--out", str(killed)], timeout=600)
    assert resumed.returncode == 1
    a, b = _files(clean), _files(killed)
    assert sorted(a) == sorted(b)
    assert {"recordings.csv", "oscillations.csv", "spikes.csv", "params.json", "analysis.log"} <= set(a)
    assert [name for name in a if a[name] != b[name]] == []
    assert json.loads((clean / "params.json").read_text())["command"].endswith(f"--out {clean}")


def test_ctrl_c_is_one_line_and_exit_130(folder, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_CLI, "analyze", str(folder), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and not list(out.glob(".drgephys-cache/*.json")):
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert (stdout, stderr) == ("", "drgephys: interrupted (run the same command again to resume)\n")
