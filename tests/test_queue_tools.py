"""End-to-end tests of postqueue, postsuper and postcat on queue files written with the
library's queue file writer (tests/helpers/make_queue_file.c)."""
import json
import os
import subprocess
import time

import pytest

from instance import Instance, helper_path

MAKE = helper_path("make_queue_file")
QUEUES = ("maildrop", "incoming", "active", "deferred", "hold", "corrupt", "bounce", "defer",
          "trace", "public", "private", "pid")


@pytest.fixture
def inst():
    i = Instance("queue")
    for d in QUEUES:
        (i.spool / d).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(i.spool / d, i.pw.pw_uid, i.pw.pw_gid)
    yield i
    i.cleanup()


def make(inst, queue, sender, rcpts, body="Subject: test\n\nhello\n"):
    r = subprocess.run(inst._as_user([MAKE, str(inst.spool), queue, sender, *rcpts]), input=body,
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


def arrival(inst, queue, qid):
    path = next((inst.spool / queue).rglob(qid))
    data = path.read_bytes()
    t = data.index(b"\nT") + 2
    colon = data.index(b":", t)
    return int(data[colon + 1:data.index(b".", colon)])


def test_empty_queue(inst):
    r = inst.run("postqueue", "-p")
    assert r.returncode == 0
    assert r.stdout == "Mail queue is empty\n"
    assert inst.run("postqueue", "-j").stdout == ""


def test_mailq_layout_with_defer_reasons(inst):
    qid = make(inst, "deferred", "sender@example.org", ["a@example.com", "-done@example.com",
                                                        "b@example.com"])
    hid = make(inst, "hold", "", ["c@example.com"], body="x\n")
    (inst.spool / "defer" / qid[0]).mkdir(parents=True)
    os.chmod(inst.spool / "defer" / qid[0], 0o755)
    (inst.spool / "defer" / qid[0] / qid).write_text(
        "recipient=a@example.com\nreason=connect to mx: Connection refused\n\n"
        "recipient=b@example.com\nreason=connect to mx: Connection refused\n\n")
    r = inst.run("postqueue", "-p")
    assert r.returncode == 0, r.stderr
    def when(q, i):
        return time.strftime("%a %b %e %H:%M:%S", time.localtime(arrival(inst, q, i)))
    assert r.stdout == (
        "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
        f"{qid:<10s}  {21:>8d} {when('deferred', qid)}  "
        "sender@example.org\n"
        "(connect to mx: Connection refused)\n"
        + " " * 41 + "a@example.com\n" + " " * 41 + "b@example.com\n\n"
        f"{hid:<10s}! {2:>8d} {when('hold', hid)}  MAILER-DAEMON\n"
        + " " * 41 + "c@example.com\n\n"
        "-- 1 Kbytes in 2 Requests.\n")
    # mailq and sendmail -bp are the same listing.
    assert inst.run("sendmail", "-bp").stdout == r.stdout


def test_json_output(inst):
    qid = make(inst, "deferred", "s@example.org", ["a@example.com"])
    (inst.spool / "defer" / qid[0]).mkdir(parents=True)
    os.chmod(inst.spool / "defer" / qid[0], 0o755)
    (inst.spool / "defer" / qid[0] / qid).write_text(
        "recipient=a@example.com\nreason=4.4.1 host said%3A no\n\n")
    r = inst.run("postqueue", "-j")
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {
        "queue_name": "deferred", "queue_id": qid,
        "arrival_time": arrival(inst, "deferred", qid), "message_size": 21,
        "forced_expire": False, "sender": "s@example.org",
        "recipients": [{"address": "a@example.com", "delay_reason": "4.4.1 host said: no"}]}
    assert list(json.loads(lines[0])) == ["queue_name", "queue_id", "arrival_time",
                                          "message_size", "forced_expire", "sender",
                                          "recipients"]


def test_flush_without_mail_system(inst):
    r = inst.run("postqueue", "-f")
    assert r.returncode != 0
    assert "postqueue: fatal: Cannot flush mail queue - mail system is down" in r.stderr


def test_postsuper_delete_all_deferred(inst):
    ids = [make(inst, "deferred", "s@x", ["r@y"]) for _ in range(3)]
    keep = make(inst, "hold", "s@x", ["r@y"])
    r = inst.run("postsuper", "-d", "ALL", "deferred")
    assert r.returncode == 0, r.stderr
    assert "postsuper: Deleted: 3 messages" in r.stderr
    assert list((inst.spool / "deferred").rglob("*[0-9A-F]" * 6)) == []
    for i in ids:
        assert f"postfix/postsuper[" in inst.log() and f"{i}: removed" in inst.log()
    assert next((inst.spool / "hold").rglob(keep))


def test_postsuper_hold_release_and_bad_ids(inst):
    qid = make(inst, "deferred", "s@x", ["r@y"])
    r = inst.run("postsuper", "-h", qid)
    assert "postsuper: Placed on hold: 1 message" in r.stderr
    assert (inst.spool / "hold" / qid).exists()
    assert f"{qid}: placed on hold" in inst.log()
    r = inst.run("postsuper", "-H", qid)
    assert "postsuper: Released from hold: 1 message" in r.stderr
    assert (inst.spool / "deferred" / qid[0] / qid).exists()
    r = inst.run("postsuper", "-d", "../../etc/main.cf")
    assert "invalid mail queue id: ../../etc/main.cf" in r.stderr
    assert (inst.etc / "main.cf").exists()
    r = inst.run("postsuper", "-d", "-", input=f"{qid}\nnot/an/id\n")
    assert "postsuper: Deleted: 1 message" in r.stderr


def test_postsuper_structure_check(inst):
    qid = make(inst, "deferred", "s@x", ["r@y"])
    src = inst.spool / "deferred" / qid[0] / qid
    wrong = inst.spool / "deferred" / qid
    os.rename(src, wrong)
    inst.run("postsuper", "-s")
    assert src.exists() and not wrong.exists()


def test_postcat(inst):
    qid = make(inst, "deferred", "s@example.org", ["a@example.com"],
               body="Subject: cat\n\nbody line\n")
    r = inst.run("postcat", "-q", qid)
    assert r.returncode == 0, r.stderr
    name = f"deferred/{qid[0]}/{qid}"
    lines = r.stdout.splitlines()
    assert lines[0] == f"*** ENVELOPE RECORDS {name} ***"
    assert lines[1].startswith("message_size: ")
    assert lines[2].startswith("message_arrival_time: ")
    assert lines[3:] == ["sender: s@example.org", "recipient: a@example.com",
                         f"*** MESSAGE CONTENTS {name} ***", "Subject: cat", "", "body line",
                         f"*** HEADER EXTRACTED {name} ***", f"*** MESSAGE FILE END {name} ***"]
    assert inst.run("postcat", "-h", "-q", qid).stdout == "Subject: cat\n"
    assert inst.run("postcat", "-b", "-q", qid).stdout == "body line\n"
    r = inst.run("postcat", "-q", "../x")
    assert r.returncode != 0 and "invalid mail queue id" in r.stderr
