"""Print a Markdown table of ratios from a pytest-benchmark JSON file.

    pytest benches --benchmark-enable --benchmark-json=/tmp/bench.json -p no:cacheprovider
    python benches/table.py /tmp/bench.json

For each group, every implementation's mean time is divided by tradewire's mean time in the same
run (so ``14.0x`` means that implementation took 14 times as long as tradewire). The ratio of the
minimum times is printed beside it, as a check against noise. Absolute times are not printed:
they depend on the machine; ratios from one run do not (as much).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

REFERENCE_IMPL = "tradewire"


def _impl(bench: dict[str, Any]) -> str:
    extra = bench.get("extra_info") or {}
    if "impl" in extra:
        return str(extra["impl"])
    params = bench.get("params") or {}
    if "impl" in params:
        return str(params["impl"])
    return str(bench.get("param") or bench["name"])


def _matches(bench: dict[str, Any]) -> str:
    value = (bench.get("extra_info") or {}).get("matches_reference")
    return {True: "yes", False: "no", None: "n/a"}[value]


def render(data: dict[str, Any]) -> str:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for bench in data["benchmarks"]:
        groups[bench.get("group") or bench["name"]].append(bench)

    header = f"Time vs {REFERENCE_IMPL} (mean)"
    lines = [
        f"| Operation | Implementation | {header} | (min) | Matches reference |",
        "|---|---|--:|--:|:-:|",
    ]
    for group in sorted(groups):
        benches = groups[group]
        base = next((b for b in benches if _impl(b) == REFERENCE_IMPL), None)
        benches.sort(key=lambda b: b["stats"]["mean"])
        for bench in benches:
            stats = bench["stats"]
            if base is None:
                mean_ratio = min_ratio = "n/a"
            else:
                mean_ratio = f"{stats['mean'] / base['stats']['mean']:.2f}x"
                min_ratio = f"{stats['min'] / base['stats']['min']:.2f}x"
            lines.append(
                f"| `{group}` | {_impl(bench)} | {mean_ratio} | {min_ratio} | {_matches(bench)} |"
            )

    machine = data.get("machine_info") or {}
    commit = data.get("commit_info") or {}
    cpu = machine.get("cpu")
    parts = [
        f"{machine.get('python_implementation', '')} {machine.get('python_version', '')}".strip(),
        cpu.get("brand_raw", "") if isinstance(cpu, dict) else "",
        f"commit {commit['id'][:10]}" if commit.get("id") else "",
        "uncommitted changes" if commit.get("dirty") else "",
    ]
    footer = ", ".join(part for part in parts if part)
    if footer:
        lines += ["", f"One run: {footer}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json_file", type=Path, help="output of pytest --benchmark-json")
    args = parser.parse_args(argv)
    data = json.loads(args.json_file.read_text())
    sys.stdout.write(render(data) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
