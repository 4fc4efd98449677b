"""Shared pytest fixtures for the end-to-end tests.

The tests drive the real binaries built by `make`; KESTREL_BUILD names the build directory
(build/ or build/san), and every program is at $KESTREL_BUILD/bin/<name>.
"""
import os
import pathlib
import subprocess

import pytest

SANITIZE = os.environ.get("SANITIZE") == "1"

REPO = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("KESTREL_BUILD", REPO / "build"))
# The private test DNS (a shared tool beside the repository, in development and in CI).
WITH_TEST_DNS = str(REPO.parent / "shared" / "tools" / "with-test-dns")


def bin_path(name):
    """Path of a built program."""
    return str(BUILD / "bin" / name)


def run(args, config_dir=None, input=None, check=False, env=None, timeout=30):
    """Run a built program (args[0] is its name) and return the CompletedProcess (text mode)."""
    argv = [bin_path(args[0])] + list(args[1:])
    e = dict(os.environ)
    e.pop("MAIL_CONFIG", None)
    if config_dir is not None:
        e["MAIL_CONFIG"] = str(config_dir)
    if env:
        e.update(env)
    return subprocess.run(argv, input=input, capture_output=True, text=True, env=e,
                          check=check, timeout=timeout)


@pytest.fixture
def config_dir(tmp_path):
    """An empty configuration directory with a minimal main.cf and the shipped master.cf."""
    d = tmp_path / "etc"
    d.mkdir()
    (d / "main.cf").write_text("")
    shipped = REPO / "conf" / "master.cf"
    (d / "master.cf").write_text(shipped.read_text() if shipped.exists() else "")
    return d


@pytest.fixture(scope="session", autouse=True)
def sanitizer_reports():
    """Under SANITIZE=1, every program (daemons included: instance.py passes the variables
    through import_environment) writes sanitizer reports into one directory; any report fails
    the run. Leak checking is left to the unit tests: daemons exit without freeing."""
    if not SANITIZE:
        yield
        return
    import shutil
    import tempfile
    d = pathlib.Path(tempfile.mkdtemp(prefix="kestrel-sanitizer-"))
    os.chmod(d, 0o1777)  # daemons run as an unprivileged user
    os.environ["ASAN_OPTIONS"] = f"detect_leaks=0:abort_on_error=1:log_path={d}/asan"
    os.environ["UBSAN_OPTIONS"] = f"print_stacktrace=1:halt_on_error=1:log_path={d}/ubsan"
    yield
    reports = sorted(p.read_text(errors="replace") for p in d.iterdir())
    shutil.rmtree(d, ignore_errors=True)
    assert not reports, "sanitizer reports:\n" + "\n".join(reports)
