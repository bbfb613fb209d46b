"""Draws the PNG plots of docs/benchmarks.md from the JSON in bench/results/.

A docs tool run by hand on the controller (needs matplotlib, which is not a
runtime dependency: `.venv/bin/pip install matplotlib`).  Reads every
`ansible-*.json` written by bench_ansible.py (newest wins per setup and
scenario) and every `debops*.json`
written by bench_debops.py, and writes into docs/img/:

* ansible-wall.png: wall time, vanilla vs ours, per setup and scenario;
* ansible-wire.png: bytes on the wire (relay counters), log scale;
* ansible-controller.png: controller CPU and peak PSS of the process tree;
* ansible-one-call.png (rows that also timed the public Mitogen): wall time
  of vanilla, ours and the public Mitogen, and for `first_task` the bytes
  up and link round trips until the first result;
* debops-wall.png: DebOps common.yml wall time, controller CPU and memory,
  first and second run.

`--markdown` prints the same numbers as the tables of docs/benchmarks.md.

    .venv/bin/python bench/plot.py [--results bench/results] [--out docs/img] [--markdown]
"""
import argparse
import glob
import json
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINES = (("vanilla", "vanilla (linear, pipelining)", "#8c8c8c"),
           ("mitogen", "ours (mitogen_linear)", "#2a7ab9"))
MACHINE = "2 cores, Debian 12, Python 3.11, ansible-core 2.19, targets over loopback ssh"

Row = Dict[str, Any]


def ansible_rows(paths: Sequence[str]) -> List[Row]:
    """Rows of bench_ansible.py results that measured both engines.

    Several files merge: per (setup, scenario) the newest file wins (names
    carry a sortable timestamp), so a partial rerun updates its rows only.
    """
    merged: Dict[Tuple[str, str], Row] = {}
    for path in sorted(paths):
        with open(path) as fp:
            for row in json.load(fp)["results"]:
                # rows without vanilla (--engines mitogen,peer) are quoted in the text only
                if "error" not in row and "vanilla" in row and "mitogen" in row:
                    merged[(row["setup"], row["scenario"])] = dict(row, source=os.path.basename(path))
    setups = {"1": 0, "1-9ms": 1, "20": 2}
    scenarios = {"command100": 0, "loop100": 1, "copy_template": 2}
    return sorted(merged.values(), key=lambda r: (setups.get(r["setup"], 9), r["setup"],
                                                  scenarios.get(r["scenario"], 9), r["scenario"]))


def memory(run: Row) -> Tuple[Optional[float], str]:
    """Peak controller memory and its kind: PSS since 26 Nov 21:03, a plain RSS sum before."""
    if "peak_pss_mb" in run:
        return run["peak_pss_mb"], "PSS"
    return run.get("peak_rss_mb"), "RSS"  # None: a run that did not sample memory


def debops_rows(paths: Sequence[str]) -> Dict[Tuple[int, str], Row]:
    """bench_debops.py rows of several files, keyed by (targets, engine); later runs win."""
    docs = []
    for path in paths:
        with open(path) as fp:
            docs.append(json.load(fp))
    rows: Dict[Tuple[int, str], Row] = {}
    for doc in sorted(docs, key=lambda d: d.get("when", "")):  # not mtime: a fresh clone has none
        for row in doc["rows"]:
            # a run that failed (e.g. UNREACHABLE at its first task) measured nothing
            failed = [which for which in ("first", "second") if row.get(which, {}).get("rc", 0) != 0]
            rows[(row["targets"], row["engine"])] = {k: v for k, v in row.items() if k not in failed}
    return rows


def grouped_bars(ax: Any, labels: List[str], series: List[Tuple[str, str, List[float]]],
                 value_format: str = "%.1f") -> None:
    """Bars side by side per label; each bar carries its value."""
    width = 0.8 / len(series)
    for i, (name, color, values) in enumerate(series):
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        bars = ax.bar(xs, [v or 0 for v in values], width, label=name, color=color)
        ax.bar_label(bars, ["n/a" if v is None else value_format % v for v in values], fontsize=7, padding=1)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_ylim(bottom=0)


def scenario_label(row: Row) -> str:
    setup = {"1": "1 target", "1-9ms": "1 target\n+9 ms each way", "20": "20 targets"}.get(row["setup"], row["setup"])
    return "%s\n%s" % (row["scenario"], setup)


def value(run: Row, key: str) -> Optional[float]:
    return memory(run)[0] if key == "memory" else run.get(key)


def engine_series(rows: List[Row], key: str, scale: float = 1.0) -> List[Tuple[str, str, List[float]]]:
    return [(label, color, [value(r[engine], key) * scale for r in rows]) for engine, label, color in ENGINES]


def save(fig: Any, out_dir: str, name: str) -> str:
    path = os.path.join(out_dir, name)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    print("wrote", os.path.relpath(path, REPO))
    return path


def by_setup(rows: List[Row]) -> List[List[Row]]:
    """Rows split per setup, in first-seen order (each panel gets its own scale)."""
    groups: Dict[str, List[Row]] = {}
    for r in rows:
        groups.setdefault(r["setup"], []).append(r)
    return list(groups.values())


THREE = ENGINES + (("peer", "public Mitogen 0.3.54", "#d9822b"),)


def plot_one_call(plt: Any, rows: List[Row], out_dir: str) -> Optional[str]:
    """Issue 13's numbers: wall of all three engines, first-task bytes and round trips."""
    rows = [r for r in rows if "peer" in r]
    first = [r for r in rows if r["scenario"] == "first_task"]
    if not rows:
        return None
    fig, axes = plt.subplots(1, 3 if first else 1, figsize=(17, 4.8), squeeze=False,
                             gridspec_kw={"width_ratios": [3, 1, 1] if first else [1]})
    series = [(label, color, [r[key]["wall_s"] for r in rows]) for key, label, color in THREE]
    grouped_bars(axes[0][0], [scenario_label(r) for r in rows], series, "%.1f")
    axes[0][0].set_yscale("log")
    axes[0][0].set_ylim(0.5, 2 * max(v for _, _, values in series for v in values))
    axes[0][0].set_ylabel("wall time (s, log scale), lower is better")
    axes[0][0].legend(fontsize=8)
    for ax, key, title, scale in ((1, "up_bytes", "KB up until the first result", 1e-3),
                                  (2, "round_trips", "link round trips", 1)):
        if first:
            grouped_bars(axes[0][ax], [scenario_label(r).split("\n", 1)[1] for r in first],
                         [(label, color, [(r[k].get(key) or 0) * scale for r in first]) for k, label, color in THREE],
                         "%.0f")
            axes[0][ax].set_title("first_task: " + title, fontsize=9)
    fig.suptitle("One module call (issue 13): %s" % MACHINE, fontsize=9)
    return save(fig, out_dir, "ansible-one-call.png")


def plot_ansible_wall(plt: Any, rows: List[Row], out_dir: str) -> str:
    groups = by_setup(rows)
    fig, axes = plt.subplots(1, len(groups), figsize=(max(6, 1.9 * len(rows)), 4.4), squeeze=False,
                             gridspec_kw={"width_ratios": [len(g) for g in groups]})
    for ax, group in zip(axes[0], groups):
        grouped_bars(ax, [scenario_label(r) for r in group], engine_series(group, "wall_s"), "%.0f")
        ax.margins(y=0.12)
        for x, r in enumerate(group):
            # The ratio under each pair is what the page's tables quote.
            ax.annotate("x%.1f" % (r["vanilla"]["wall_s"] / r["mitogen"]["wall_s"]), (x, 0),
                        xytext=(0, -44), textcoords="offset points", ha="center", fontsize=8, weight="bold")
    axes[0][0].set_ylabel("wall time (s), lower is better")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("ansible-playbook wall time (speed-up in bold) -- " + MACHINE, fontsize=9)
    return save(fig, out_dir, "ansible-wall.png")


def plot_ansible_wire(plt: Any, rows: List[Row], out_dir: str) -> Optional[str]:
    rows = [r for r in rows if r["vanilla"].get("wire_bytes") and r["mitogen"].get("wire_bytes")]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(max(6, 1.5 * len(rows)), 4.2))
    grouped_bars(ax, [scenario_label(r) for r in rows], engine_series(rows, "wire_bytes", 1e-6), "%.2f")
    ax.set_yscale("log")
    ax.set_ylabel("MB through the ssh relay (log scale)")
    ax.set_title("Bytes on the wire, both directions\n" + MACHINE, fontsize=9)
    ax.legend(fontsize=8)
    return save(fig, out_dir, "ansible-wire.png")


def plot_ansible_controller(plt: Any, rows: List[Row], out_dir: str) -> str:
    groups = by_setup(rows)
    fig, axes = plt.subplots(2, len(groups), figsize=(max(6, 1.9 * len(rows)), 7), squeeze=False,
                             gridspec_kw={"width_ratios": [len(g) for g in groups]})
    metrics = (("cpu_s", "controller CPU (s)\nuser+sys, process tree", "%.1f"),
               ("memory", "peak controller memory (MiB)\nPSS, or RSS sum where marked", "%.0f"))
    for line, (key, title, value_format) in enumerate(metrics):
        for ax, group in zip(axes[line], groups):
            labels = [scenario_label(r) + (" [RSS]" if key == "memory" and memory(r["mitogen"])[1] == "RSS" else "")
                      for r in group]
            grouped_bars(ax, labels, engine_series(group, key), value_format)
            ax.margins(y=0.12)
        axes[line][0].set_ylabel(title)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Controller cost -- " + MACHINE, fontsize=9)
    return save(fig, out_dir, "ansible-controller.png")


def plot_debops(plt: Any, rows: Dict[Tuple[int, str], Row], out_dir: str) -> Optional[str]:
    """DebOps common.yml: wall time, controller CPU and peak PSS per target count and run."""
    engines = (("linear", ENGINES[0][1], ENGINES[0][2]), ("mitogen_linear", ENGINES[1][1], ENGINES[1][2]))
    counts = sorted({n for n, engine in rows if all((n, e) in rows for e, _, _ in engines)})
    if not counts:
        return None
    cells = [(n, which) for n in counts for which in ("first", "second")
             if all(which in rows[(n, e)] for e, _, _ in engines)]
    labels = ["%d target%s\n%s run" % (n, "s" if n > 1 else "", which) for n, which in cells]
    panels = (("wall_s", "wall time (s)", "%.0f"), ("cpu_s", "controller CPU (s)", "%.0f"),
              ("target_cpu_s", "target CPU (s)", "%.0f"), ("memory", "peak controller memory (MiB)", "%.0f"))
    fig, axes = plt.subplots(1, len(panels), figsize=(max(15, 5.2 * len(cells)), 4.4))
    for ax, (key, title, fmt) in zip(axes, panels):
        series = [(label, color, [value(rows[(n, engine)][which], key) for n, which in cells])
                  for engine, label, color in engines]
        grouped_bars(ax, labels, series, fmt)
        ax.set_title(title + ", lower is better", fontsize=9)
    axes[0].legend(fontsize=8)
    loads = sorted({load for row in rows.values() for which in ("first", "second") if which in row
                    for load in row[which].get("load_before", [])[:1]})
    note = " (1-min load %.1f-%.1f)" % (loads[0], loads[-1]) if loads else ""
    fig.suptitle("DebOps common.yml -- " + MACHINE + note, fontsize=9)
    return save(fig, out_dir, "debops-wall.png")


def ansible_table(rows: List[Row]) -> List[str]:
    """Markdown rows: setup, scenario, then vanilla / ours / ratio per metric."""
    lines = ["| setup | scenario | wall vanilla | wall ours | speed-up | CPU vanilla | CPU ours "
             "| memory vanilla | memory ours | wire vanilla | wire ours | wire ratio | file |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        v, o = r["vanilla"], r["mitogen"]
        kind = memory(o)[1]
        lines.append("| %s | %s | %.1f s | %.1f s | **x%.1f** | %.1f s | %.1f s | %.0f MiB %s | %.0f MiB %s "
                     "| %.2f MB | %.3f MB | x%.0f | %s |" % (
                         scenario_label(r).split("\n", 1)[1].replace("\n", ", "), r["scenario"],
                         v["wall_s"], o["wall_s"], v["wall_s"] / o["wall_s"], v["cpu_s"], o["cpu_s"],
                         memory(v)[0], kind, memory(o)[0], kind, v["wire_bytes"] / 1e6, o["wire_bytes"] / 1e6,
                         v["wire_bytes"] / max(o["wire_bytes"], 1), r["source"]))
    return lines


def _or_dash(fmt: str, number: Optional[float]) -> str:
    return "--" if number is None else fmt % number


def debops_table(rows: Dict[Tuple[int, str], Row]) -> List[str]:
    lines = ["| targets | run | wall vanilla | wall ours | wall saved | CPU vanilla | CPU ours "
             "| target CPU vanilla | target CPU ours | memory vanilla | memory ours |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for n in sorted({n for n, _ in rows}):
        v, o = rows.get((n, "linear")), rows.get((n, "mitogen_linear"))
        if not (v and o):
            continue
        for which in ("first", "second"):
            if which not in v or which not in o:
                continue
            a, b = v[which], o[which]
            lines.append("| %d | %s | %.0f s | %.0f s | %.0f%% | %.0f s | %.0f s | %s | %s | %s | %s |" % (
                n, which, a["wall_s"], b["wall_s"], 100.0 * (1 - b["wall_s"] / a["wall_s"]), a["cpu_s"], b["cpu_s"],
                _or_dash("%.0f s", a.get("target_cpu_s")), _or_dash("%.0f s", b.get("target_cpu_s")),
                _or_dash("%.0f MiB", memory(a)[0]), _or_dash("%.0f MiB", memory(b)[0])))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default=os.path.join(REPO, "bench", "results"))
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "img"))
    parser.add_argument("--ansible", nargs="+", help="bench_ansible.py JSON files (default: every ansible-*.json"
                        " in --results, newest wins per setup and scenario)")
    parser.add_argument("--markdown", action="store_true", help="print the docs tables instead of plotting")
    args = parser.parse_args()
    rows = ansible_rows(args.ansible or glob.glob(os.path.join(args.results, "ansible-*.json")))
    debops = debops_rows(glob.glob(os.path.join(args.results, "debops*.json")))
    if args.markdown:
        if rows:
            print("\n".join(ansible_table(rows)) + "\n")
        if debops:
            print("\n".join(debops_table(debops)))
        return 0
    try:
        import matplotlib
    except ImportError:
        sys.stderr.write("matplotlib is missing: .venv/bin/pip install matplotlib\n")
        return 2
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(args.out, exist_ok=True)
    if rows:
        print("ansible: %d rows from %s" % (len(rows), ", ".join(sorted({r["source"] for r in rows}))))
        plot_ansible_wall(plt, rows, args.out)
        plot_ansible_wire(plt, rows, args.out)
        plot_ansible_controller(plt, rows, args.out)
        plot_one_call(plt, rows, args.out)
    if debops:
        plot_debops(plt, debops, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
