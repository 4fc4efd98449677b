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


def raw_client(inst, flags):
    """Speaks the protocol from Python up to the queue id; returns (socket, file, queue_id)."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(str(inst.spool / "public" / "cleanup"))
    f = s.makefile("rwb")
    assert f.readline() == b"protocol=cleanup\n" and f.readline() == b"\n"
    f.write(b"flags=%d\n\n" % flags)
    f.flush()
    line = f.readline()
    assert f.readline() == b"\n"
    assert line.startswith(b"queue_id=")
    return s, f, line[9:].strip().decode()


def rec(t, data):
    data = data.encode() if isinstance(data, str) else data
    return t.encode() + str(len(data)).encode() + b":" + data + b"\n"


def read_reply(f):
    out = {}
    while (line := f.readline()) not in (b"\n", b""):
        k, v = line.decode().rstrip("\n").split("=", 1)
        out[k] = v
    return out


def test_client_killed_mid_message_leaves_nothing(inst):
    inst.start_master()
    s, f, qid = raw_client(inst, 0)
    f.write(rec("F", "a@b.test") + rec("R", "c@d.test") + rec("M", "") + rec("L", "Subject: x"))
    f.flush()
    wait_for(lambda: (inst.spool / "incoming" / qid).exists(), what="queue file")
    s.close()
    f.close()
    wait_for(lambda: not queue_files(inst), what="queue file removal")


def test_protocol_refuses_client_version_record(inst):
    inst.start_master()
    s, f, qid = raw_client(inst, 0)
    f.write(rec("V", "1") + rec("F", "a@b.test"))
    f.flush()
    assert read_reply(f) == {"status": "1", "reason": "4.3.0 internal protocol error"}
    s.close()
    assert queue_files(inst) == []
    inst.wait_log(f"{qid}: cleanup protocol error: unexpected V record in envelope")


def test_message_too_big_is_refused(inst):
    inst.main["message_size_limit"] = "1000"
    inst.write_main_cf()
    inst.start_master()
    body = ["L" + "x" * 80] * 20
    rc, qid, status = submit(inst, 0, ["Fa@b.test", "Rc@d.test", "M", "LSubject: big", "L",
                                       *body, "X"])
    assert rc == 1
    assert status == "status=4 reason=5.3.4 message file too big"
    assert queue_files(inst) == []


def test_header_checks_reject_is_refused_and_logged(inst):
    (inst.etc / "header_checks").write_text("/^Subject: .*viagra/ REJECT no pills here\n")
    inst.main["header_checks"] = f"regexp:{inst.etc}/header_checks"
    inst.write_main_cf()
    inst.start_master()
    rc, qid, status = submit(inst, FLAG_FILTER, [
        "Fa@b.test", "Aclient_name=localhost", "Aclient_address=127.0.0.1",
        "Aclient_protocol=ESMTP", "Aclient_helo=x", "Rc@d.test", "M",
        "LSubject: cheap viagra", "L", "Lhi", "X"])
    assert rc == 1
    assert status == "status=8 reason=5.7.1 no pills here"
    assert queue_files(inst) == []
    inst.wait_log(f"{qid}: reject: header Subject: cheap viagra from localhost[127.0.0.1]; "
                  "from=<a@b.test> to=<c@d.test> proto=ESMTP helo=<x>: 5.7.1 no pills here")


def test_header_checks_hold_redirect_filter(inst):
    (inst.etc / "header_checks").write_text(
        "/^Subject: hold/ HOLD held for review\n"
        "/^X-Redirect:/ REDIRECT other@elsewhere.test\n"
        "/^X-Filter:/ FILTER smtp:[127.0.0.1]:10025\n"
        "/^X-Drop:/ IGNORE\n"
        "/^X-Old:/ REPLACE X-New: replaced\n")
    inst.main["header_checks"] = f"regexp:{inst.etc}/header_checks"
    inst.write_main_cf()
    inst.start_master()
    rc, qid, status = submit(inst, FLAG_FILTER, [
        "Fa@b.test", "Rc@d.test", "M", "LSubject: hold me", "LX-Redirect: 1",
        "LX-Filter: 1", "LX-Drop: 1", "LX-Old: 1", "L", "Lhi", "X"])
    assert rc == 0, status
    assert queue_files(inst) == []
    path = inst.spool / "hold" / qid
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    recs = read_records(path)
    content = [d for t, d in recs[recs.index(("M", "")) + 1:recs.index(("X", ""))]]
    assert content == ["Subject: hold me", "X-Redirect: 1", "X-Filter: 1", "X-New: replaced",
                       "", "hi"]
    assert recs[recs.index(("X", "")):] == [
        ("X", ""), ("A", "redirect=other@elsewhere.test"),
        ("A", "filter=smtp:[127.0.0.1]:10025"), ("E", "")]
    log = inst.wait_log(f"{qid}: hold: header Subject: hold me from local; from=<a@b.test> "
                        "to=<c@d.test>: held for review")
    inst.wait_log(f"{qid}: redirect: header X-Redirect: 1 from local; from=<a@b.test> "
                  "to=<c@d.test>: other@elsewhere.test")
    inst.wait_log(f"{qid}: replace: header X-Old: 1 from local; from=<a@b.test> "
                  "to=<c@d.test>: X-New: replaced")


def test_extract_recipients_removes_bcc(inst):
    inst.start_master()
    rc, qid, status = submit(inst, FLAG_EXTRACT | FLAG_MAP_OK, [
        "Fa@b.test", "M", "LTo: One <one@x.test>, two", "LCc: three@y.test",
        "LBcc: hidden@z.test", "LMessage-ID: <abc@x>", "L", "Lhi", "X"])
    assert rc == 0, status
    recs = read_records(inst.spool / "incoming" / qid)
    rcpts = [(t, d) for t, d in recs if t in "OR"]
    assert rcpts == [("R", "one@x.test"), ("O", "two"), ("R", "two@example.test"),
                     ("R", "three@y.test"), ("R", "hidden@z.test")]
    content = [d for t, d in recs[recs.index(("M", "")) + 1:recs.index(("X", ""))]]
    assert content == ["To: One <one@x.test>, two@example.test", "Cc: three@y.test",
                       "Message-ID: <abc@x>", "", "hi"]
    inst.wait_log(f"{qid}: message-id=<abc@x>")


def test_no_recipients(inst):
    inst.start_master()
    rc, qid, status = submit(inst, FLAG_EXTRACT, ["Fa@b.test", "M", "LSubject: x", "X"])
    assert status == "status=32 reason=5.1.0 no recipients specified"
    assert queue_files(inst) == []


def test_canonical_masquerade_virtual(inst):
    (inst.etc / "canonical").write_text("joe joe.user@example.test\n")
    (inst.etc / "virtual").write_text(
        "list@example.test a@x.test, b@x.test, a@x.test\n"
        "loop1@example.test loop2@example.test\n"
        "loop2@example.test loop1@example.test\n")
    inst.main.update({"canonical_maps": f"texthash:{inst.etc}/canonical",
                      "virtual_alias_maps": f"texthash:{inst.etc}/virtual",
                      "masquerade_domains": "example.test"})
    inst.write_main_cf()
    inst.start_master()
    rc, qid, status = submit(inst, FLAG_MAP_OK, [
        "Fjoe@host.example.test", "Rlist@example.test", "Rloop1@example.test", "M",
        "LFrom: joe@host.example.test", "L", "Lhi", "X"])
    assert rc == 0, status
    recs = read_records(inst.spool / "incoming" / qid)
    env = [(t, d) for t, d in recs if t in "FORN"]
    assert env == [("F", "joe@example.test"),
                   ("O", "list@example.test"), ("R", "a@x.test"),
                   ("O", "list@example.test"), ("R", "b@x.test"),
                   ("R", "loop1@example.test")]
    assert ("L", "From: joe@example.test") in recs


def test_hopcount_and_long_lines(inst):
    inst.main.update({"hopcount_limit": "2", "line_length_limit": "10"})
    inst.write_main_cf()
    inst.start_master()
    rc, qid, status = submit(inst, 0, ["Fa@b.test", "Rc@d.test", "M", "LReceived: 1",
                                       "LDelivered-To: 2", "LReceived: 3", "L", "X"])
    assert status == "status=16 reason=5.4.6 too many hops"
    rc, qid, status = submit(inst, 0, ["Fa@b.test", "Rc@d.test", "M", "LSubject: x", "L",
                                       "L" + "0123456789" * 2 + "abc", "X"])
    assert rc == 0, status
    recs = read_records(inst.spool / "incoming" / qid)
    body = recs[recs.index(("L", "")) + 1:recs.index(("X", ""))]
    assert body == [("P", "0123456789"), ("P", "0123456789"), ("L", "abc")]


def test_queue_minfree(inst):
    inst.main["queue_minfree"] = str(2 ** 62)
    inst.write_main_cf()
    inst.start_master()
    rc, qid, status = submit(inst, 0, ["Fa@b.test"])
    assert rc == 1
    assert status == "open failed: 4.3.1 Insufficient system storage"
    assert queue_files(inst) == []
