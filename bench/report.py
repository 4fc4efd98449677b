"""Summaries of the benchmark runs: the results table (Markdown), ratios, the machine
description and the gnuplot plot of the scaling curves."""
import os
import pathlib
import platform
import shutil
import statistics
import subprocess


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def machine():
    mem_kb = 0
    for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    cpu = "?"
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    root = os.environ.get("KESTREL_BENCH_ROOT", "/tmp/kestrel-bench")
    df = subprocess.run(["df", "--output=source,fstype", root], capture_output=True,
                        text=True).stdout.split("\n")[1:2]
    disk = " ".join(df[0].split()) if df else "?"
    dev = os.path.basename(disk.split()[0]) if disk != "?" else ""
    rota = pathlib.Path(f"/sys/block/{dev}/queue/rotational")
    kind = ""
    if rota.exists():
        kind = ", rotational" if rota.read_text().strip() == "1" else ", non-rotational"
    return {"cores": os.cpu_count(), "cpu": cpu, "memory": f"{mem_kb / 1048576:.1f} GiB",
            "disk": f"{disk}{kind} (the queues and Maildirs live under {root})",
            "kernel": platform.release()}


def fmt(s, digits=0):
    f = f"{{:.{digits}f}}"
    return f"{f.format(s['median'])} ({f.format(s['min'])}–{f.format(s['max'])})"


def ratio(a, b):
    return a["median"] / b["median"] if b["median"] else float("nan")


def markdown(results, info, versions, config, failures):
    """results: {figure: {"kestrel": summary, "postfix": summary, "unit": str,
    "better": "higher"|"lower"}} in display order."""
    out = ["# Kestrel vs Postfix: benchmark results", "",
           "Written by `bench/run` (see bench/README.md). Each cell is the median of the paired "
           "runs with (min–max); runs alternate Kestrel, Postfix, Kestrel, … Every timed run was "
           "verified first: every message counted at the sink or in the Maildir, queue empty.",
           "", "## Machine and versions", ""]
    out += [f"- CPU: {info['cpu']}, {info['cores']} cores; memory {info['memory']}",
            f"- disk: {info['disk']}; kernel {info['kernel']}"]
    out += [f"- {v}" for v in versions]
    out += [f"- run: {config}", "", "## Figures", "",
            "| figure | unit | Kestrel | Postfix | ratio ours/Postfix | bar |",
            "| --- | --- | --- | --- | --- | --- |"]
    for name, r in results.items():
        k, p = r["kestrel"], r["postfix"]
        rt = ratio(k, p)
        good = rt >= 1.0 if r["better"] == "higher" else rt <= 1.0
        bar = ("met" if good else "not met") if r.get("bar") else ""
        digits = 1 if r["unit"] == "MiB" else 0
        out.append(f"| {name} | {r['unit']} | {fmt(k, digits)} | {fmt(p, digits)} | "
                   f"{rt:.2f} ({r['better']} is better) | {bar} |")
    if failures:
        out += ["", "## Runs that failed verification (not counted)", ""]
        out += [f"- {f}" for f in failures]
    return "\n".join(out) + "\n"


def plot(scaling, path):
    """scaling: {"sessions": {mta: [(x, median, min, max)]}, "size": {...}} → PNG via gnuplot.
    Returns the path written, or None when gnuplot is missing."""
    if not shutil.which("gnuplot"):
        return None
    data = path.with_suffix(".dat")
    blocks, plots = [], []
    index = 0
    for panel, xlabel in (("sessions", "concurrent SMTP sessions (2 KB messages)"),
                          ("size", "message size, KB (20 sessions)")):
        lines = []
        for name in ("kestrel", "postfix"):
            rows = scaling.get(panel, {}).get(name, [])
            blocks.append("\n".join(f"{x} {m} {lo} {hi}" for x, m, lo, hi in rows) or "0 0 0 0")
            lines.append(f"'{data}' index {index} using 1:2:3:4 with yerrorlines "
                         f"title '{name.capitalize()}'")
            index += 1
        plots.append((xlabel, lines))
    data.write_text("\n\n\n".join(blocks) + "\n")
    script = [f"set terminal pngcairo size 1100,450 noenhanced" if _has_cairo() else
              "set terminal png size 1100,450", f"set output '{path}'",
              "set multiplot layout 1,2 title 'Relay throughput (median, min-max)'",
              "set ylabel 'messages/s'", "set grid", "set key top right", "set yrange [0:*]"]
    for i, (xlabel, lines) in enumerate(plots):
        script.append(f"set xlabel '{xlabel}'")
        script.append("set logscale x" if i == 1 else "unset logscale x")
        script.append("plot " + ", ".join(lines))
    script.append("unset multiplot")
    r = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"gnuplot failed: {r.stderr}")
    data.unlink()
    return path


def _has_cairo():
    r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
    return "pngcairo" in (r.stdout + r.stderr)
