"""Interleaved timing of short commands and the ratio table startup.py and completion.py print."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Mapping, Optional, Sequence


def interleaved_medians(commands: Mapping[str, tuple[Sequence[str], Optional[dict]]], rounds: int) -> dict[str, float]:
    """Each command once per round, in the same order (drift hits all alike); median milliseconds."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, (argv, env) in commands.items():
            start = time.perf_counter()
            subprocess.run(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def print_ratios(medians: Mapping[str, float], target: float, label: str, heading: str) -> None:
    """The first command is the floor; every other one's ratio to it, against the target."""
    floor = next(iter(medians.values()))
    width = max(map(len, medians))
    print(heading)
    print(f"{label:<{width}}  {'median':>9}  {'ratio':>6}  target <= {target}x")
    for index, (name, median) in enumerate(medians.items()):
        ratio = median / floor
        verdict = "" if index == 0 else ("ok" if ratio <= target else "OVER")
        print(f"{name:<{width}}  {median:7.1f}ms  {ratio:5.2f}x  {verdict}", file=sys.stdout)
