"""The command line: exit codes, one-line summary, problem lists without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import set_cell


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sting_outcomes.cli", *args], capture_output=True, text=True)


def test_validate_clean_data_exits_0_with_one_line(mini_data: Path) -> None:
    result = run("validate", "--data", str(mini_data))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert "2 operations, 2 sources (1 primary), 3 figures" in lines[0]


def test_validate_lists_three_problems_and_exits_1(mini_data: Path) -> None:
    set_cell(mini_data / "figures.csv", 1, "unit", "tonnes")
    set_cell(mini_data / "figures.csv", 0, "source_id", "gone-2020")
    set_cell(mini_data / "figures.csv", 2, "value", "-3")
    result = run("validate", "--data", str(mini_data))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    problems = [line for line in result.stderr.splitlines() if "figures.csv:" in line]
    assert len(problems) == 3, result.stderr
    assert problems[0].endswith(
        "figures.csv:2: source_id: 'gone-2020' is not a known source (known: agency-a-2021-06-08, paper-2021-06)"
    )
    assert "figures.csv:3: unit: 'tonnes' is not a known unit (known: " in problems[1]
    assert problems[2].endswith("figures.csv:4: value: -3 is below the minimum 0")


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run().returncode == 2
    assert run("frobnicate").returncode == 2
    missing = run("validate", "--data", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "is not a directory" in missing.stderr


def test_usage_errors_are_one_line_without_a_traceback(tmp_path: Path) -> None:
    cases = [
        (),
        ("frobnicate",),
        ("build", "--workers", "-1"),
        ("build", "--out", "/"),
        ("build", "--notebooks", str(tmp_path / "nope")),
        ("build", "--cache", "/"),
    ]
    for args in cases:
        result = run(*args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("sting-outcomes"), (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_broken_datapackage_is_a_data_problem_not_a_traceback(mini_data: Path) -> None:
    (mini_data / "datapackage.json").write_text("{ not json", encoding="utf-8")
    result = run("validate", "--data", str(mini_data))
    assert result.returncode == 1
    assert "datapackage.json:1: not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_summary_prints_coverage(mini_data: Path) -> None:
    result = run("summary", "--data", str(mini_data))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "2 operations, 2 sources, 3 figures" in out
    assert "primary sources: 50.0% of sources, 66.7% of figures" in out
    assert "primary figures read on the agency's own site (re-hosted copies left out): 66.7% of figures" in out
    assert "known conflicts (pairs of figures that disagree): 0" in out
    assert "figures by operation and metric family" in out and "snapshots per operation" in out
