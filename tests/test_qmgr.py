"""End-to-end tests of the queue manager with the error, discard and bounce services and a
scripted delivery agent (tests/helpers/qmgr_test_agent.c). Test messages are written straight
into incoming/ by tests/helpers/qmgr_inject.c; the bounce service's notices go through the real
cleanup."""
import os
import pathlib
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import bin_path
from instance import Instance, helper_path, wait_for

AGENT = helper_path("qmgr_test_agent")
INJECT = helper_path("qmgr_inject")


def master_cf(script):
    return (
        "qmgr unix n - n 300 1 qmgr\n"
        "cleanup unix n - n - 0 cleanup\n"
        "bounce unix - - n - 0 bounce\n"
        "defer unix - - n - 0 bounce\n"
        "error unix - - n - - error\n"
        "retry unix - - n - - error\n"
        "discard unix - - n - - discard\n"
        f"test unix - n n - 4 {AGENT} {script}\n"
    )


@pytest.fixture
def inst():
    i = Instance("qmgr", main_cf={
        "default_transport": "test",
        "local_transport": "test",
        "mydestination": "localhost",
        "minimal_backoff_time": "300s",
        "maximal_backoff_time": "4000s",
        "queue_run_delay": "300s",
    })
    i.script = i.root / "script"
    i.script.write_text("")
    os.chmod(i.root, 0o777)
    i.write_master_cf(master_cf(i.script))
    yield i
    i.cleanup()


def inject(inst, sender, *rcpts, body="Subject: test\n\nhello\n", args=()):
    r = subprocess.run(inst._as_user([INJECT, str(inst.spool), *args, sender, *rcpts]),
                       input=body, capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def trigger(inst, what=b"I"):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(inst.spool / "public" / "qmgr"))
        s.sendall(what)


def agent_log(inst):
    p = pathlib.Path(str(inst.script) + ".log")
    return p.read_text() if p.exists() else ""


def queue_files(inst, queue):
    d = inst.spool / queue
    return sorted(p.name for p in d.rglob("*") if p.is_file()) if d.exists() else []


def read_records(path):
    """Parse a queue file into (type, data) pairs."""
    data = pathlib.Path(path).read_bytes()
    out, pos = [], 0
    while pos < len(data):
        t = chr(data[pos])
        colon = data.index(b":", pos)
        n = int(data[pos + 1:colon])
        out.append((t, data[colon + 1:colon + 1 + n].decode(errors="replace")))
        pos = colon + 1 + n + 1
    return out


def start(inst):
    inst.start_master()
    wait_for(lambda: (inst.spool / "public" / "qmgr").exists(), what="qmgr socket")


def test_delivery_and_removed(inst):
    start(inst)
    qid = inject(inst, "sender@example.org", "a@remote.test", "b@remote.test")
    trigger(inst)
    inst.wait_log(f"{qid}: removed")
    log = inst.log()
    assert f"{qid}: from=<sender@example.org>, size=" in log
    assert re.search(rf"qmgr\[\d+\]: {qid}: from=<sender@example\.org>, size=\d+, nrcpt=2 "
                     r"\(queue active\)", log)
    assert re.search(rf"{qid}: to=<a@remote\.test>, relay=test, delay=[\d.]+, "
                     r"delays=[\d.]+/[\d.]+/0/[\d.]+, dsn=2\.0\.0, status=sent "
                     r"\(delivered by test agent\)", log)
    assert sorted(agent_log(inst).split("\n")[:-1]) == [f"{qid} a@remote.test sent",
                                                        f"{qid} b@remote.test sent"]
    assert queue_files(inst, "active") == [] and queue_files(inst, "incoming") == []


def test_error_and_discard_transports(inst):
    (inst.etc / "transport").write_text("bad.test error:5.1.2 no such domain\n"
                                        "gone.test discard:dropped here\n")
    inst.main["transport_maps"] = f"texthash:{inst.etc}/transport"
    inst.write_main_cf()
    start(inst)
    qid = inject(inst, "sender@example.org", "x@bad.test", "y@gone.test")
    trigger(inst)
    inst.wait_log(f"{qid}: removed")
    log = inst.log()
    assert re.search(rf"error\[\d+\]: {qid}: to=<x@bad\.test>, relay=none, delay=[\d.]+, "
                     r"delays=[\d./]+, dsn=5\.1\.2, status=bounced \(no such domain\)", log)
    assert re.search(rf"discard\[\d+\]: {qid}: to=<y@gone\.test>, relay=none, delay=[\d.]+, "
                     r"delays=[\d./]+, dsn=2\.0\.0, status=sent \(dropped here\)", log)


def test_deferred_then_flush(inst):
    inst.script.write_text("a@remote.test deferred 4.4.1 connection timed out\n")
    start(inst)
    qid = inject(inst, "sender@example.org", "a@remote.test", "b@remote.test")
    trigger(inst)
    inst.wait_log("status=deferred (connection timed out)")
    wait_for(lambda: queue_files(inst, "deferred") == [qid], what="deferred file")
    path = next((inst.spool / "deferred").rglob(qid))
    st = path.stat()
    assert 290 <= st.st_mtime - time.time() <= 301  # next attempt after minimal_backoff_time
    defer_log = next((inst.spool / "defer").rglob(qid)).read_text()
    assert "recipient=a@remote.test\n" in defer_log and "action=delayed\n" in defer_log
    assert agent_log(inst).count("b@remote.test") == 1
    inst.script.write_text("")
    trigger(inst, b"F")
    inst.wait_log(f"{qid}: removed")
    # b was marked done on the first run and not delivered again.
    assert agent_log(inst).count("b@remote.test") == 1
    assert agent_log(inst).count("a@remote.test sent") == 1


def test_agent_unreachable_defers(inst):
    inst.main["default_transport"] = "nosuch"
    inst.write_main_cf()
    start(inst)
    qid = inject(inst, "sender@example.org", "a@remote.test")
    trigger(inst)
    inst.wait_log("status=deferred (delivery temporarily suspended: connect to transport "
                  "private/nosuch")
    assert re.search(rf"qmgr\[\d+\]: {qid}: to=<a@remote\.test>, relay=none, delay=[\d.]+, "
                     r"delays=[\d./]+, dsn=4\.3\.0, status=deferred \(delivery temporarily "
                     r"suspended: connect to transport private/nosuch: ", inst.log())
    wait_for(lambda: queue_files(inst, "deferred") == [qid], what="deferred file")


def test_corrupt_file_saved_others_deliver(inst):
    start(inst)
    bad = inst.spool / "incoming" / "0ABCDE123"
    bad.write_text("V1:1\nGARBAGE\n")
    os.chmod(bad, 0o700)
    if os.geteuid() == 0:
        os.chown(bad, inst.pw.pw_uid, inst.pw.pw_gid)
    qid = inject(inst, "sender@example.org", "a@remote.test")
    trigger(inst)
    inst.wait_log(f"{qid}: removed")
    inst.wait_log('warning: saving corrupt file "0ABCDE123" from queue "incoming"')
    assert queue_files(inst, "corrupt") == ["0ABCDE123"]


def test_lifetime_expiry_bounces_to_sender(inst):
    inst.main["maximal_queue_lifetime"] = "0"
    inst.write_main_cf()
    inst.script.write_text("a@remote.test deferred 4.4.1 host not responding\n")
    start(inst)
    qid = inject(inst, "sender@example.org", "a@remote.test",
                 body="Subject: original\n\noriginal body\n")
    trigger(inst)
    inst.wait_log(f"{qid}: from=<sender@example.org>, status=expired, returned to sender")
    m = inst.wait_log(f"{qid}: sender non-delivery notification: ")
    inst.wait_log(f"{qid}: removed")
    new = re.search(rf"{qid}: sender non-delivery notification: (\w+)", inst.log()).group(1)
    # The notice is delivered to the sender by the test agent, which saved the queue file.
    wait_for(lambda: f"{new} sender@example.org sent" in agent_log(inst), what="DSN delivery")
    recs = read_records(str(inst.script) + ".msgs/" + new)
    assert ("F", "") in recs
    assert ("R", "sender@example.org") in recs or ("r", "sender@example.org") in recs
    text = "\n".join(d for t, d in recs if t == "L")
    assert "Content-Type: multipart/report; report-type=delivery-status;" in text
    assert "Final-Recipient: rfc822; a@remote.test" in text
    assert "Action: failed" in text
    assert "Status: 4.4.1" in text
    assert "Diagnostic-Code: X-Postfix; host not responding" in text
    assert "Subject: original" in text


def test_crash_and_restart_delivers_at_least_once(inst):
    inst.script.write_text("sleep 2\n")
    start(inst)
    ids = [inject(inst, "sender@example.org", f"r{i}@remote.test") for i in range(3)]
    trigger(inst)
    wait_for(lambda: queue_files(inst, "active"), what="active messages")
    (qpid,) = [p for p, _, _ in inst.children("qmgr")]
    os.kill(qpid, signal.SIGKILL)
    inst.script.write_text("")
    # master restarts qmgr (wakeup 300 / next trigger); it moves active/ back to incoming/.
    def restarted():
        try:
            trigger(inst)
        except OSError:
            pass
        return [p for p, _, _ in inst.children("qmgr") if p != qpid]

    wait_for(restarted, timeout=15, interval=0.5, what="new qmgr")
    trigger(inst)
    for qid in ids:
        inst.wait_log(f"{qid}: removed", timeout=20)
    log = agent_log(inst)
    for i, qid in enumerate(ids):
        assert log.count(f"{qid} r{i}@remote.test sent") >= 1
    assert queue_files(inst, "active") == [] and queue_files(inst, "incoming") == []
