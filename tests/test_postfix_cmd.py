"""End-to-end tests of the postfix control command against a sandbox instance running the echo
test service (tests/helpers/echo_service.c): start/status/stop, a second start, reload with a
broken and with a good configuration, check and its permission warnings, flush, abort, -c and
start-fg."""
import os
import signal
import socket
import subprocess

import pytest

from conftest import bin_path
from instance import Instance, connect, free_port, helper_path, wait_for

ECHO = helper_path("echo_service")
P = "postfix/postfix-script: "


@pytest.fixture
def inst():
    i = Instance("postfix")
    yield i
    i.cleanup()


def echo_entry(port):
    return f"127.0.0.1:{port} inet n - n - - {ECHO}\n"


def answers(port):
    """True when the echo service on port greets and echoes."""
    try:
        s, f = connect(port, timeout=3)
    except OSError:
        return False
    with s:
        greeting = f.readline()
        f.write("ping\nQUIT\n")
        f.flush()
        return "hello from" in greeting and f.readline().endswith(" ping\n")


def postfix(inst, *args):
    return inst.run("postfix", *args)


def main_cf_line(inst, name):
    return list(inst.main).index(name) + 1


def test_start_status_stop(inst):
    port = free_port()
    inst.write_master_cf(echo_entry(port))
    r = postfix(inst, "start")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", P + "starting the Postfix mail system\n")
    inst.started = True
    assert answers(port)
    pid = inst.master_pid()
    r = postfix(inst, "status")
    assert (r.returncode, r.stderr) == (0, P + f"the Postfix mail system is running: PID: {pid}\n")
    log = inst.log()
    assert "postfix/postfix-script[" in log and "]: starting the Postfix mail system\n" in log
    assert "]: the Postfix mail system is running: PID: " in log
    r = postfix(inst, "start")
    assert (r.returncode, r.stderr) == (1, P + "fatal: the Postfix mail system is already running\n")
    assert inst.master_pid() == pid
    r = postfix(inst, "stop")
    assert (r.returncode, r.stderr) == (0, P + "stopping the Postfix mail system\n")
    assert inst.processes() == []  # stop waits until every process of the instance is gone
    assert not (inst.spool / "pid" / "master.pid").exists()
    r = postfix(inst, "status")
    assert (r.returncode, r.stderr) == (1, P + "the Postfix mail system is not running\n")
    for cmd in ("stop", "abort", "reload"):
        r = postfix(inst, cmd)
        assert (r.returncode, r.stderr) == (1, P + "fatal: the Postfix mail system is not running\n")


def test_start_creates_queue_layout(inst):
    inst.write_master_cf(echo_entry(free_port()))
    r = postfix(inst, "start")
    assert r.returncode == 0, r.stderr
    inst.started = True
    modes = {d.name: d.stat().st_mode & 0o7777 for d in inst.spool.iterdir() if d.is_dir()}
    assert modes["maildrop"] == 0o1730
    assert modes["public"] == 0o710
    assert modes["pid"] == 0o755
    for name in ("incoming", "active", "deferred", "hold", "corrupt", "bounce", "defer", "trace",
                 "flush", "saved", "private"):
        assert modes[name] == 0o700, name
    for d in inst.spool.iterdir():
        assert d.stat().st_uid == inst.pw.pw_uid


def test_reload_refuses_broken_main_cf(inst):
    port_a, port_b = free_port(), free_port()
    inst.write_master_cf(echo_entry(port_a))
    assert postfix(inst, "start").returncode == 0
    inst.started = True
    pid = inst.master_pid()
    inst.main["default_process_limit"] = "lots"
    inst.main["smtpd_recipient_restrictions"] = "permit_mynetworks, foo, reject"
    inst.write_main_cf()
    inst.write_master_cf(echo_entry(port_a) + echo_entry(port_b))
    r = postfix(inst, "reload")
    cf = inst.etc / "main.cf"
    assert r.returncode == 1
    assert r.stderr == (
        P + f"error: {cf}, line {main_cf_line(inst, 'default_process_limit')}: "
        "bad numerical configuration: default_process_limit = lots\n"
        + P + f"error: {cf}, line {main_cf_line(inst, 'smtpd_recipient_restrictions')}: "
        "unknown restriction \"foo\" in smtpd_recipient_restrictions\n"
        + P + "fatal: configuration errors: not refreshing the Postfix mail system\n")
    # master was not signalled: same process, old services only.
    assert inst.master_pid() == pid
    assert answers(port_a)
    assert not answers(port_b)
    assert "reload -- version" not in inst.log()


def test_reload_applies_good_change(inst):
    port_a, port_b = free_port(), free_port()
    inst.write_master_cf(echo_entry(port_a))
    assert postfix(inst, "start").returncode == 0
    inst.started = True
    inst.write_master_cf(echo_entry(port_a) + echo_entry(port_b))
    r = postfix(inst, "reload")
    assert (r.returncode, r.stderr) == (0, P + "refreshing the Postfix mail system\n")
    inst.wait_log("reload -- version")
    assert answers(port_b)
    assert answers(port_a)


def test_start_refuses_bad_configuration(inst):
    inst.write_master_cf(echo_entry(free_port()))
    inst.main["alias_maps"] = f"hash:{inst.etc}/aliases"
    inst.write_main_cf()
    r = postfix(inst, "start")
    assert r.returncode == 1
    line = main_cf_line(inst, "alias_maps")
    assert r.stderr.startswith(
        P + f"error: {inst.etc}/main.cf, line {line}: parameter alias_maps: "
        f"open hash:{inst.etc}/aliases: ")
    assert r.stderr.endswith(P + "fatal: configuration errors: not starting the Postfix mail system\n")
    assert inst.master_pid() is None and inst.processes() == []


def test_check_clean_then_world_writable(inst):
    inst.write_master_cf(echo_entry(free_port()))
    r = postfix(inst, "check")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert (inst.spool / "incoming").is_dir()  # missing directories are created
    os.chmod(inst.spool / "incoming", 0o702)
    r = postfix(inst, "check")
    assert (r.returncode, r.stdout) == (0, "")
    assert r.stderr == P + f"warning: group or other writable: {inst.spool}/incoming\n"
    assert f"postfix/postfix-script[" in inst.log()
    r = postfix(inst, "set-permissions")
    assert r.returncode == 0
    assert (inst.spool / "incoming").stat().st_mode & 0o7777 == 0o700
    assert postfix(inst, "check").stderr == ""


def test_check_reports_master_cf_errors(inst):
    inst.write_master_cf(echo_entry(free_port()) + "  -o smtpd_helo_required=sometimes\n")
    r = postfix(inst, "check")
    assert r.returncode == 1
    assert r.stderr == (P + f"error: {inst.etc}/master.cf, line 1: bad boolean configuration: "
                        "smtpd_helo_required = sometimes\n")


def test_flush(inst):
    r = postfix(inst, "flush")
    assert (r.returncode, r.stderr) == (1, P + "fatal: Cannot flush mail queue - mail system is down\n")
    inst.write_master_cf(f"qmgr unix n - n - 1 {ECHO} trigger\n")
    assert postfix(inst, "start").returncode == 0
    inst.started = True
    r = postfix(inst, "flush")
    assert (r.returncode, r.stderr) == (0, "")
    trig = inst.spool / "echo-trigger.log"
    wait_for(lambda: trig.exists() and " qmgr F" in trig.read_text(), timeout=5,
             what="the flush request")


def test_abort(inst):
    port = free_port()
    inst.write_master_cf(echo_entry(port))
    assert postfix(inst, "start").returncode == 0
    inst.started = True
    r = postfix(inst, "abort")
    assert (r.returncode, r.stderr) == (0, P + "aborting the Postfix mail system\n")
    wait_for(lambda: not inst.processes(), timeout=5, what="all processes to exit")


def test_dash_c_selects_configuration(inst):
    port = free_port()
    inst.write_master_cf(echo_entry(port))
    env = dict(os.environ)
    env.pop("MAIL_CONFIG", None)

    def run(*args):
        argv = inst._as_user([bin_path("postfix"), "-c", str(inst.etc), *args])
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30)

    assert run("start").returncode == 0
    inst.started = True
    assert answers(port)
    r = run("status")
    assert (r.returncode, r.stderr) == (0, P + f"the Postfix mail system is running: PID: "
                                        f"{inst.master_pid()}\n")
    assert run("stop").returncode == 0
    assert inst.processes() == []
    # Without -c (and without MAIL_CONFIG) the default configuration is another instance.
    r = subprocess.run(inst._as_user([bin_path("postfix"), "-c", str(inst.root / "nowhere"),
                                      "status"]), capture_output=True, text=True, env=env)
    assert r.returncode == 1
    assert "nowhere/main.cf" in r.stderr


def test_start_fg_runs_in_foreground(inst):
    port = free_port()
    inst.write_master_cf(echo_entry(port))
    argv = inst._as_user([bin_path("postfix"), "start-fg"])
    p = subprocess.Popen(argv, env=inst.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        wait_for(lambda: answers(port), timeout=10, what="the echo service")
        assert inst.master_pid() == p.pid  # postfix became the master: no fork, no detach
        assert p.poll() is None
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
        wait_for(lambda: not inst.processes(), timeout=5, what="all processes to exit")
        assert p.stderr.read().startswith(P + "starting the Postfix mail system\n")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_unknown_command(inst):
    r = postfix(inst, "frobnicate")
    assert r.returncode == 1
    assert r.stderr.startswith(P + "fatal: unknown command: 'frobnicate'; usage: postfix ")
