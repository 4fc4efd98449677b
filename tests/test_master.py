"""End-to-end tests of the master daemon and the service skeleton, with the echo test service
(tests/helpers/echo_service.c): listeners, process limits, crash replacement, start-up
throttling, wake-ups, reload, stop, and privilege drop in root mode."""
import concurrent.futures
import os
import signal
import socket
import time

import pytest

from instance import Instance, connect, free_port, helper_path, wait_for

ECHO = helper_path("echo_service")


@pytest.fixture
def inst():
    i = Instance("master")
    yield i
    i.cleanup()


def echo_entry(port, maxproc="-", name=None):
    return f"{name or '127.0.0.1:%d' % port} inet n - n - {maxproc} {ECHO}\n"


def talk(port, lines, hold=0.0):
    """Connect, read the greeting, send lines, return (greeting, replies)."""
    s, f = connect(port)
    with s:
        greeting = f.readline()
        replies = []
        for line in lines:
            f.write(line + "\n")
            f.flush()
            replies.append(f.readline())
        if hold:
            time.sleep(hold)
        f.write("QUIT\n")
        f.flush()
    return greeting, replies


def test_listener_serves_and_logs_start(inst):
    port = free_port()
    inst.write_master_cf(echo_entry(port))
    inst.start_master()
    greeting, replies = talk(port, ["hello"])
    pid = greeting.split()[0]
    assert f"hello from 127.0.0.1:{port}" in greeting
    assert replies == [f"{pid} hello\n"]
    assert f"postfix/master[{inst.master_pid()}]: daemon started -- version " in inst.log()
    assert f"configuration {inst.etc}" in inst.log()


def test_process_limit_under_parallel_clients(inst):
    port = free_port()
    inst.write_master_cf(echo_entry(port, maxproc=2))
    inst.start_master()
    seen_counts = []

    def client(n):
        g, r = talk(port, ["SLEEP 1"])
        seen_counts.append(len(inst.children("echo_service")))
        return g.split()[0]

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        pids = set(pool.map(client, range(10)))
    assert len(pids) <= 2, pids
    assert max(seen_counts) <= 2
    # All 10 clients were served (by at most two processes, one after another).
    assert len(seen_counts) == 10


def test_killed_child_is_logged_and_replaced(inst):
    port = free_port()
    inst.write_master_cf(echo_entry(port, maxproc=1))
    inst.start_master()
    s, f = connect(port)
    pid = int(f.readline().split()[0])
    os.kill(pid, signal.SIGKILL)
    s.close()
    inst.wait_log(f"warning: process {ECHO} pid {pid} killed by signal 9")
    greeting, _ = talk(port, ["again"])
    assert int(greeting.split()[0]) != pid
    assert "throttling" not in inst.log()  # a crash after serving is no start-up failure


def test_failing_command_is_throttled(inst):
    port = free_port()
    inst.main["service_throttle_time"] = "60s"
    inst.write_main_cf()
    inst.write_master_cf(f"127.0.0.1:{port} inet n - n - 1 /bin/false\n")
    inst.start_master()
    for _ in range(5):  # clients keep coming; master must not fork in a loop
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            pass
        time.sleep(0.2)
    inst.wait_log("warning: /bin/false: bad command startup -- throttling")
    time.sleep(1)
    log = inst.log()
    assert log.count("warning: process /bin/false pid") == 1
    assert log.count("bad command startup -- throttling") == 1


def test_wakeup_triggers_fifo_and_unix_services(inst):
    inst.write_master_cf(f"tick unix n - n 1 1 {ECHO} trigger\n"
                         f"tock fifo n - n 1 1 {ECHO} trigger\n")
    inst.start_master()
    trig = inst.spool / "echo-trigger.log"
    wait_for(lambda: trig.exists() and "tick W" in trig.read_text()
             and "tock W" in trig.read_text(), timeout=5, what="wake-ups")
    # One long-running process per trigger service, not one per wake-up.
    time.sleep(1.5)
    lines = trig.read_text().splitlines()
    assert len({l.split()[0] for l in lines if " tick " in l}) == 1
    assert len(lines) >= 4


def test_reload_adds_and_removes_services_keeping_sessions(inst):
    port_a, port_b = free_port(), free_port()
    inst.write_master_cf(echo_entry(port_a))
    inst.start_master()
    s, f = connect(port_a)
    greeting = f.readline()
    inst.write_master_cf(echo_entry(port_b))
    master = inst.master_pid()
    os.kill(master, signal.SIGHUP)
    inst.wait_log("reload -- version")
    # The established session on the removed service still works...
    f.write("still there\n")
    f.flush()
    assert f.readline() == f"{greeting.split()[0]} still there\n"
    # ...the new service answers, and the removed one takes no new clients.
    g, _ = talk(port_b, ["x"])
    assert "hello from" in g
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port_a), timeout=2).close()
    f.write("QUIT\n")
    f.flush()
    s.close()
    assert inst.master_pid() == master


def test_bad_reload_keeps_running_configuration(inst):
    port = free_port()
    inst.write_master_cf(echo_entry(port))
    inst.start_master()
    inst.write_master_cf("broken line without columns\n")
    os.kill(inst.master_pid(), signal.SIGHUP)
    inst.wait_log("reload failed, keeping the running configuration")
    g, _ = talk(port, ["x"])
    assert "hello from" in g


def test_stop_leaves_no_process(inst):
    port = free_port()
    inst.write_master_cf(echo_entry(port) + f"tick unix n - n 1 1 {ECHO} trigger\n")
    inst.start_master()
    s, f = connect(port)
    f.readline()
    assert len(inst.processes()) >= 2
    os.kill(inst.master_pid(), signal.SIGTERM)
    wait_for(lambda: not inst.processes(), timeout=5, what="all processes to exit")
    s.close()
    assert "terminating on signal 15" in inst.log()
    assert not (inst.spool / "pid" / "master.pid").exists()


def test_second_master_refused_and_sigkill_recovery(inst):
    port = free_port()
    inst.write_master_cf(echo_entry(port))
    inst.start_master()
    r = inst.run("master", "-w")
    assert r.returncode != 0
    assert "already running" in inst.log() + r.stderr
    os.kill(inst.master_pid(), signal.SIGKILL)
    time.sleep(0.3)
    inst.start_master()  # the stale pid file and sockets are no obstacle
    g, _ = talk(port, ["x"])
    assert "hello from" in g


@pytest.mark.skipif(os.geteuid() != 0, reason="root mode needs root")
def test_root_mode_children_run_as_mail_owner():
    inst = Instance("rootmode", user="nobody")
    try:
        port, jailed = free_port(), free_port()
        inst.write_master_cf(echo_entry(port) + f"tick unix n - n 1 1 {ECHO} trigger\n"
                             f"127.0.0.1:{jailed} inet n - y - - {ECHO}\n")
        inst.start_master(as_root=True)
        g, _ = talk(port, ["x"])
        assert g.rstrip().endswith("uid=65534")
        # The chroot column: the child's root directory is the queue directory.
        s, f = connect(jailed)
        pid = int(f.readline().split()[0])
        assert os.readlink(f"/proc/{pid}/root") == str(inst.spool)
        s.close()
        masters = [p for p in inst.processes() if os.path.basename(p[2][0]) == "master"]
        assert masters and masters[0][1] == 0
        for pid, uid, argv in inst.children("echo_service"):
            assert uid == 65534, (pid, argv)
        # Service sockets belong to mail_owner.
        st = os.stat(inst.spool / "public" / "tick")
        assert st.st_uid == 65534
    finally:
        inst.cleanup()


def test_reload_refuses_semantic_errors(inst):
    """A main.cf that parses but names an unknown restriction or a missing table is refused by
    master's own reload (not only by `postfix reload`), and the running services stay."""
    port, port2 = free_port(), free_port()
    inst.write_master_cf(echo_entry(port))
    inst.start_master()
    inst.main["smtpd_recipient_restrictions"] = "permit_mynetworks, no_such_restriction"
    inst.main["alias_maps"] = f"hash:{inst.root}/missing-aliases"
    inst.write_main_cf()
    inst.write_master_cf(echo_entry(port2))
    os.kill(inst.master_pid(), signal.SIGHUP)
    inst.wait_log("reload failed, keeping the running configuration")
    log = inst.log()
    assert 'unknown restriction "no_such_restriction" in smtpd_recipient_restrictions' in log
    assert "parameter alias_maps: open hash:" in log
    g, _ = talk(port, ["x"])
    assert "hello from" in g
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port2), timeout=2).close()


def test_multi_server_serves_clients_concurrently(inst):
    """SERVER_MULTI: one process serves several connected clients in its event loop."""
    port = free_port()
    inst.write_master_cf(f"127.0.0.1:{port} inet n - n - 1 {ECHO} multi\n")
    inst.start_master()
    a, fa = connect(port)
    b, fb = connect(port)
    for f, word in ((fa, "one"), (fb, "two"), (fa, "three")):
        f.write(word + "\n")
        f.flush()
    ra, rb, ra2 = fa.readline(), fb.readline(), fa.readline()
    assert ra.split()[1:] == [f"127.0.0.1:{port}", "one"]
    assert rb.split()[1:] == [f"127.0.0.1:{port}", "two"]
    assert ra2.split()[2] == "three"
    assert ra.split()[0] == rb.split()[0] == ra2.split()[0]  # the same process
    a.close()
    b.close()


def test_missing_command_is_logged_and_throttled(inst):
    port = free_port()
    inst.write_master_cf(f"127.0.0.1:{port} inet n - n - 1 /nonexistent/daemon\n")
    inst.start_master()
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        pass
    inst.wait_log("warning: /nonexistent/daemon: bad command startup -- throttling")
    log = inst.log()
    assert "error: exec /nonexistent/daemon: No such file or directory" in log
    assert "malformed status message" not in log
