"""Help that teaches: every option explained with its default, examples per command, errors naming flags."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from drgephys.cli import DESCRIPTION, build_parser, main, with_flags

from ..batch.conftest import sim_folder  # noqa: F401  (fixture)

COMMANDS = ("analyze", "compare", "report", "simulate")


def _subparsers(parser):
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_has_help_and_its_default(command):
    sub = _subparsers(build_parser())[command]
    text = sub.format_help()
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{command} {action.dest} has no help"
        help_text = sub.formatter_class(prog="x")._get_help_string(action)
        valued = action.option_strings and not action.required and not isinstance(action, argparse._StoreTrueAction)
        if valued:
            assert "(default" in help_text, f"{command} {action.option_strings} does not say its default"
    assert "examples:\n" in text
    examples = [ln for ln in text.split("examples:\n", 1)[1].splitlines() if ln.startswith("  drgephys ")]
    assert len(examples) >= 2 and all(ln.startswith(f"  drgephys {command}") or "&&" in ln for ln in examples)


def test_defaults_are_shown_in_the_rendered_help():
    subs = _subparsers(build_parser())
    assert "--jobs N              worker processes (default: one per available core, at" in \
        subs["analyze"].format_help()                               # a None default says it in words
    assert "cells per animal (default: 4)" in subs["simulate"].format_help()
    assert "(default: 0)" in subs["compare"].format_help()         # a default of 0 is still a default
    assert "(default: csv)" in subs["analyze"].format_help()
    assert "cells per animal (default: 4)" in subs["simulate"].format_help()


def test_top_help_describes_the_tool_and_a_session(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert DESCRIPTION in out and "The ``drgephys`` command line" not in out
    assert "  drgephys analyze DATA_DIR --out results --groups DATA_DIR/groups.csv\n" in out
    assert "exit status: 0 every recording analysed, 1 some refused or failed (or no recordings found), 2 usage error" \
        in out


def test_help_imports_no_analysis_library():
    code = ("import sys\nfrom drgephys.cli import build_parser\nbuild_parser().format_help()\n"
            "print(sorted(m for m in ('pandas', 'scipy', 'neo', 'matplotlib', 'sklearn', 'quantities') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_library_parameter_names_become_flags():
    assert with_flags("`reference` must be one of the groups ['a']; got 'b'", "compare") == \
        "--reference must be one of the groups ['a']; got 'b'"
    assert with_flags("`matched_vm_mv` must lie\n  where", "compare") == "--matched-vm must lie where"
    assert with_flags("`group` must hold two groups", "compare") == "`group` must hold two groups"   # a column


@pytest.fixture(scope="module")
def results(sim_folder, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp("res")
    main(["analyze", str(sim_folder), "--out", str(out), "--groups", str(sim_folder / "groups.csv"), "--quiet"])
    return out


@pytest.mark.parametrize("argv, message", [
    (["compare", "{res}", "--reference", "sham"], "--reference must be one of the groups ['control', 'injured']; "
                                                   "got 'sham'"),
    (["compare", "{res}", "--cluster", "litter"], "recordings.csv has no column 'litter'; pass --groups groups.csv "
                                                   "(with columns file, litter, ...) to drgephys analyze, or set "
                                                   "--cluster to one of"),
    (["compare", "{res}/nowhere"], "RESULTS_DIR must be an existing folder written by drgephys analyze; got "
                                   "'{res}/nowhere'"),
    (["report", "{res}", "--max-recordings", "-1"], "--max-recordings must be a non-negative int; got -1"),
    (["report", "{res}/nowhere"], "RESULTS_DIR must be an existing folder written by drgephys analyze; got "
                                  "'{res}/nowhere'"),
    (["simulate", "--out", "{res}/sim", "--animals", "0"], "--animals must be a positive integer; got 0"),
    (["simulate", "--out", "{res}/sim", "--duration", "-1"], "--duration must be between 0.05 and 3600 s; got -1.0"),
])
def test_errors_name_the_flag(results, argv, message, capsys):
    argv = [a.format(res=results) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"drgephys: error: {message.format(res=results)}") and err.count("\n") == 1
    assert not re.search(r"`(reference|cluster|by|results_dir|max_figures|animals_per_group|duration_s)`", err)
