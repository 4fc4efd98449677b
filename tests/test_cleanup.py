"""End-to-end tests of the cleanup service under a sandbox master: submissions through the
cleanup_client library (tests/helpers/cleanup_submit.c) and raw protocol clients, with the queue
file in incoming/ read back record by record."""
import os
import re
import socket
import stat
import subprocess
import time

import pytest

from instance import Instance, helper_path, wait_for

SUBMIT = helper_path("cleanup_submit")
FLAG_FILTER, FLAG_MAP_OK, FLAG_EXTRACT, FLAG_LOCAL = 2, 4, 16, 32


def make_instance(extra=None):
    main = {"myorigin": "example.test", "mydomain": "example.test"}
    main.update(extra or {})
    inst = Instance("cleanup", main_cf=main)
    for d in ("maildrop", "incoming", "active", "deferred", "hold", "corrupt", "bounce",
              "defer", "trace", "public", "private", "pid"):
        (inst.spool / d).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(inst.spool / d, inst.pw.pw_uid, inst.pw.pw_gid)
    inst.write_master_cf("cleanup unix n - n - 0 cleanup\n")
    return inst


@pytest.fixture
def inst():
    i = make_instance()
    yield i
    i.cleanup()


def submit(inst, flags, records):
    """Run the test client; returns (returncode, queue_id, status line)."""
    text = "".join(r + "\n" for r in records)
    argv = inst._as_user([SUBMIT, str(inst.spool / "public" / "cleanup"), str(flags)])
    r = subprocess.run(argv, input=text, capture_output=True, text=True, timeout=30,
                       env=inst.env())
    lines = r.stdout.splitlines()
    qid = lines[0].split("=", 1)[1] if lines and lines[0].startswith("queue_id=") else None
    return r.returncode, qid, lines[-1] if lines else r.stderr


def read_records(path):
    """The records of a queue file as (type, data) pairs."""
    data = path.read_bytes()
    out, i = [], 0
    while i < len(data):
        t = chr(data[i])
        colon = data.index(b":", i)
        n = int(data[i + 1:colon])
        out.append((t, data[colon + 1:colon + 1 + n].decode()))
        assert data[colon + 1 + n:colon + 2 + n] == b"\n"
        i = colon + 2 + n
    return out


def queue_files(inst, queue="incoming"):
    return [p for p in (inst.spool / queue).iterdir() if not p.name.startswith(".")]


def test_local_submission_adds_headers_and_rewrites(inst):
    inst.start_master()
    rc, qid, status = submit(inst, FLAG_LOCAL | FLAG_MAP_OK | FLAG_FILTER, [
        "Fjoe", "Afullname=Joe User", "Asubmit_uid=1234", "Rbob", "M",
        "LSubject: hello", "L", "Lbody line", "X"])
    assert rc == 0, status
    assert status == "status=0 reason="
    path = inst.spool / "incoming" / qid
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    recs = read_records(path)
    assert recs[0] == ("V", "1")
    assert recs[1][0] == "C" and recs[2][0] == "T"
    env = recs[3:recs.index(("M", ""))]
    assert env == [("F", "joe@example.test"), ("A", "fullname=Joe User"),
                   ("A", "submit_uid=1234"), ("O", "bob"), ("R", "bob@example.test")]
    content = recs[recs.index(("M", "")) + 1:recs.index(("X", ""))]
    lines = [d for t, d in content]
    assert all(t == "L" for t, _ in content)
    assert lines[0] == "Received: by mail.example.test (Kestrel, from userid 1234)"
    assert re.fullmatch(r"\tid %s; \w\w\w, [ \d]\d \w\w\w \d{4} \d\d:\d\d:\d\d [-+]\d{4} \(.*\)" % qid,
                        lines[1])
    assert lines[2] == "Subject: hello"
    assert re.fullmatch(r"Message-Id: <\d{14}\.%s@mail\.example\.test>" % qid, lines[3])
    assert lines[4].startswith("Date: ")
    assert lines[5] == "From: Joe User <joe@example.test>"
    assert lines[6:] == ["", "body line"]
    assert recs[-2:] == [("X", ""), ("E", "")]
    # the size record: content offset, content bytes, recipients
    offset, size, nrcpt = map(int, recs[1][1].split())
    raw = path.read_bytes()
    assert raw[offset:offset + 1] in (b"L",)
    assert size == sum(len(l) + 1 for l in lines)
    assert nrcpt == 1
    inst.wait_log(f"{qid}: message-id=<")
