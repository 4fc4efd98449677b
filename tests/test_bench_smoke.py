"""A short smoke run of the benchmark harness (bench/run --smoke): a few hundred messages
through Kestrel and through a Debian Postfix test instance, no ratio asserted; it checks
that the harness runs, that both systems delivered every message, and that it wrote the
results table."""
import json
import os
import shutil
import subprocess
import tempfile

from conftest import BUILD, REPO


def test_bench_smoke(tmp_path):
    out = tmp_path / "results.md"
    # The instances run as an unprivileged user: their root must be reachable (tmp_path is not).
    root = tempfile.mkdtemp(prefix="kestrel-bench-smoke-")
    os.chmod(root, 0o755)
    env = dict(os.environ, KESTREL_BUILD=str(BUILD), KESTREL_BENCH_ROOT=root)
    try:
        r = subprocess.run([str(REPO / "bench" / "run"), "--smoke", "--out", str(out)],
                           capture_output=True, text=True, env=env, timeout=600)
        leftovers = os.listdir(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "warm-up: kestrel delivered every message" in r.stderr
    assert "warm-up: postfix delivered every message" in r.stderr
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["failures"] == []
    # Every timed run was verified (a lossy run raises and lands in failures instead).
    expected = {"relay, 20 sessions, 2 KB": 200,
                "local delivery to Maildir, 20 sessions, 2 KB": 200,
                "sendmail submission, 4 loops, to Maildir": 100}
    for name, count in expected.items():
        for system in ("kestrel", "postfix"):
            runs = data["raw"][name][system]
            assert len(runs) == 1 and runs[0]["rate"] > 0, (name, system)
    memory = data["raw"]["memory, 50 sessions open after EHLO (summed RSS)"]
    for system in ("kestrel", "postfix"):
        assert memory[system][0]["noop_ok"] == 50
        assert memory[system][0]["rss_mb"] > 0
    text = out.read_text()
    assert text.startswith("# Kestrel vs Postfix: benchmark results\n")
    for name in expected:
        assert f"| {name} | msg/s |" in text
    assert "| memory, 50 sessions open after EHLO (summed RSS) | MiB |" in text
    assert "Postfix 3." in text and "cores" in text
    assert leftovers == []  # every instance removed
