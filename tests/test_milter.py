"""End-to-end tests of non_smtpd_milters: a sandbox instance (pickup, cleanup, qmgr, local from
the shipped master.cf) with the libmilter test filter (tests/helpers/test_milter.c) on a unix or
inet socket; mail submitted with the sandbox's sendmail; each filter action checked on the
delivered mailbox, the hold queue, the maildrop queue and the log."""
import email
import os
import re
import subprocess
import time

import pytest

from conftest import REPO
from instance import Instance, free_port, helper_path, wait_for

MILTER = helper_path("test_milter")
EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def shipped_master_cf(port):
    text = (REPO / "conf" / "master.cf").read_text()
    return text.replace("smtp      inet", f"127.0.0.1:{port} inet", 1)


@pytest.fixture
def inst():
    i = Instance("milter", main_cf={
        "mydestination": "$myhostname, localhost",
        "myorigin": "$myhostname",
        "alias_maps": "hash:$config_directory/aliases",
        "alias_database": "hash:$config_directory/aliases",
        "milter_default_action": "tempfail",
        "milter_command_timeout": "5s",
        "milter_content_timeout": "5s",
        "milter_connect_timeout": "5s",
    })
    (i.etc / "aliases").write_text(f"postmaster: {i.user}\nother: {i.user}\n")
    if os.geteuid() == 0:
        os.chown(i.etc / "aliases", i.pw.pw_uid, i.pw.pw_gid)
    assert i.run("postalias", f"hash:{i.etc}/aliases").returncode == 0
    i.write_master_cf(shipped_master_cf(i.smtp_port))
    i.milters = []
    yield i
    for p in i.milters:
        p.kill()
        p.wait()
    i.cleanup()


def start_milter(inst, actions, socket=None):
    """Starts the test filter; returns the main.cf endpoint."""
    if socket is None:
        path = inst.root / f"milter{len(inst.milters)}.sock"
        socket, endpoint = f"unix:{path}", f"unix:{path}"
    else:
        endpoint = socket
    inst.mlog = inst.root / f"milter{len(inst.milters)}.log"
    lib = socket
    if socket.startswith("inet:"):
        host, port = socket[5:].rsplit(":", 1)
        lib = f"inet:{port}@{host}"
    p = subprocess.Popen(inst._as_user([MILTER, lib, str(inst.mlog), actions]))
    inst.milters.append(p)
    wait_for(lambda: inst.mlog.exists() and "ready" in inst.mlog.read_text(), what="milter up")
    if socket.startswith("unix:"):
        wait_for(lambda: os.path.exists(socket[5:]), what="milter socket")
    else:
        time.sleep(0.3)
    return endpoint


def configure(inst, milters, **extra):
    inst.main["non_smtpd_milters"] = milters
    inst.main.update(extra)
    inst.write_main_cf()
    inst.start_master()


def sendmail(inst, *args, text):
    r = inst.run("sendmail", *args, input=text)
    assert r.returncode == 0, r.stderr


def mbox(inst):
    path = inst.mail / inst.user
    return path.read_text() if path.exists() else ""


def delivered(inst, count=1):
    wait_for(lambda: mbox(inst).count("\nFrom ") + mbox(inst).startswith("From ") >= count,
             20, what=f"{count} delivered")
    parts = re.split(r"(?m)^From .*\n", mbox(inst))[1:]
    # mbox ends each message with an empty line
    return [email.message_from_string(p[:-1] if p.endswith("\n\n") else p) for p in parts]


def files(inst, queue):
    return [p for p in (inst.spool / queue).rglob("*") if p.is_file()]


MSG = "Subject: test\nX-Drop: yes\n\nline one\nline two\n"


def test_headers_body_and_events(inst):
    m = start_milter(inst, "addheader=X-Added:yes,insheader=X-First:top,"
                           "chgheader=Subject:changed,delheader=X-Drop,replbody=new\\nbody\\n")
    configure(inst, m)
    sendmail(inst, "-f", "alice@example.org", inst.user, text=MSG)
    [msg] = delivered(inst)
    assert msg["Subject"] == "changed"
    assert msg["X-Added"] == "yes"
    assert msg["X-Drop"] is None
    assert msg.get_payload() == "new\nbody\n"
    text = mbox(inst)
    # X-First is inserted at position 0: before Received in the queue file
    hdrs = text.split("\n\n", 1)[0]
    assert hdrs.index("X-First: top") < hdrs.index("Received: by mail.example.test")
    log = inst.mlog.read_text()
    qid = re.search(r"pickup\[\d+\]: (\w+): uid=", inst.log())[1]
    assert "connect localhost" in log
    assert "macro j=mail.example.test" in log
    assert "macro {daemon_name}=mail.example.test" in log
    assert "helo localhost" in log
    assert "mail <alice@example.org>" in log
    assert f"macro {{mail_addr}}=alice@example.org" in log
    assert f"rcpt <{inst.user}@mail.example.test>" in log
    assert f"macro {{rcpt_addr}}={inst.user}@mail.example.test" in log
    assert f"macro i={qid}" in log
    assert "header Subject: test" in log and "header X-Drop: yes" in log
    assert re.search(r"header Received: by mail\.example\.test", log)
    assert "body 20" in log  # "line one\r\nline two\r\n"
    assert log.index("eoh") < log.index("body 20") < log.index("eom")


def test_envelope_edits(inst):
    m = start_milter(inst, f"delrcpt={inst.user}@mail.example.test,addrcpt=other@localhost,"
                           "chgfrom=<new@example.org>")
    configure(inst, m)
    sendmail(inst, "-f", "alice@example.org", inst.user, text=MSG)
    [msg] = delivered(inst)
    assert msg["Return-Path"] == "<new@example.org>"
    assert msg["X-Original-To"] == "other@localhost"


def test_reject_with_custom_reply(inst):
    m = start_milter(inst, "reject=Go away now")
    configure(inst, m)
    sendmail(inst, "-f", "alice@example.org", inst.user, text=MSG)
    inst.wait_log("milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: "
                  "5.7.1 Go away now; from=<alice@example.org>")
    time.sleep(0.5)
    assert mbox(inst) == ""
    assert files(inst, "incoming") == [] and files(inst, "active") == []


def test_tempfail_keeps_mail_then_retry(inst):
    m = start_milter(inst, "tempfail")
    configure(inst, m)
    sendmail(inst, "-f", "alice@example.org", inst.user, text=MSG)
    inst.wait_log("milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: 4.7.1 ")
    time.sleep(0.5)
    assert len(files(inst, "maildrop")) == 1
    assert mbox(inst) == ""
    # the filter now accepts: the next pickup scan delivers the kept file
    inst.milters.pop().kill()
    os.unlink(m[5:])
    start_milter(inst, "accept", socket=m)
    import socket as sk
    with sk.socket(sk.AF_UNIX, sk.SOCK_STREAM) as s:  # the wake-up postdrop sends
        s.connect(str(inst.spool / "public" / "pickup"))
        s.sendall(b"W")
    [msg] = delivered(inst)
    assert msg["Subject"] == "test"
    wait_for(lambda: files(inst, "maildrop") == [], what="maildrop emptied")


def test_discard(inst):
    m = start_milter(inst, "discard")
    configure(inst, m)
    sendmail(inst, "-f", "alice@example.org", inst.user, text=MSG)
    inst.wait_log("milter-discard: END-OF-MESSAGE from localhost[127.0.0.1]: "
                  "milter triggers DISCARD action")
    time.sleep(0.5)
    assert mbox(inst) == ""
    assert files(inst, "maildrop") == []


def test_quarantine_goes_to_hold(inst):
    m = start_milter(inst, "quarantine=suspicious,addheader=X-Q:1")
    configure(inst, m)
    sendmail(inst, "-f", "alice@example.org", inst.user, text=MSG)
    inst.wait_log("milter-hold: END-OF-MESSAGE from localhost[127.0.0.1]: "
                  "milter triggers HOLD action")
    wait_for(lambda: len(files(inst, "hold")) == 1, what="held")
    assert b"X-Q: 1" in files(inst, "hold")[0].read_bytes()
    assert mbox(inst) == ""


def test_eicar_tag_and_reject(inst):
    m1 = start_milter(inst, "eicar-tag")
    configure(inst, m1)
    sendmail(inst, inst.user, text=f"Subject: virus\n\n{EICAR}\n")
    sendmail(inst, inst.user, text="Subject: clean\n\nhello\n")
    msgs = delivered(inst, 2)
    status = {m["Subject"]: m["X-Virus-Status"] for m in msgs}
    assert status == {"virus": "Infected", "clean": "Clean"}


def test_eicar_reject_two_milters_inet(inst):
    port = free_port()
    m1 = start_milter(inst, "addheader=X-One:1")
    m2 = start_milter(inst, "eicar-reject", socket=f"inet:127.0.0.1:{port}")
    configure(inst, f"{m1}, {{ {m2}, command_timeout=3s, default_action=tempfail }}")
    sendmail(inst, inst.user, text=f"Subject: virus\n\n{EICAR}\n")
    inst.wait_log(": 5.7.1 Virus found: Eicar-Test-Signature")
    sendmail(inst, inst.user, text="Subject: clean\n\nhello\n")
    # The refused message comes back to its (local) sender as a delivery status notification.
    msgs = delivered(inst, 2)
    [msg] = [m for m in msgs if m["Subject"] == "clean"]
    assert msg["X-One"] == "1"
    [dsn] = [m for m in msgs if m.get_content_type() == "multipart/report"]
    assert "Virus found" in dsn.as_string()
    # the second filter saw the first one's header
    assert "header X-One: 1" in inst.mlog.read_text()


@pytest.mark.parametrize("action", ["accept", "tempfail"])
def test_milter_down_default_action(inst, action):
    configure(inst, f"unix:{inst.root}/nothing.sock", milter_default_action=action)
    sendmail(inst, inst.user, text=MSG)
    inst.wait_log(f"-- applying default action {action}")
    if action == "accept":
        [msg] = delivered(inst)
        assert msg["Subject"] == "test"
    else:
        inst.wait_log(": 4.7.1 Service unavailable - try again later")
        time.sleep(0.5)
        assert len(files(inst, "maildrop")) == 1 and mbox(inst) == ""


@pytest.mark.parametrize("action", ["accept", "tempfail"])
def test_lost_connection_during_body_replacement(inst, action):
    m = start_milter(inst, "die-in-body")
    configure(inst, m, milter_default_action=action)
    sendmail(inst, inst.user, text=MSG)
    inst.wait_log(f"-- applying default action {action}")
    if action == "accept":  # none of the failed filter's edits is applied
        [msg] = delivered(inst)
        assert msg.get_payload() == "line one\nline two\n"
    else:
        time.sleep(0.5)
        assert mbox(inst) == "" and len(files(inst, "maildrop")) == 1
    assert "partial body" not in mbox(inst)


def test_timeout_applies_default(inst):
    m = start_milter(inst, "sleep=4")
    configure(inst, m, milter_content_timeout="1s", milter_default_action="accept")
    sendmail(inst, inst.user, text=MSG)
    inst.wait_log("timeout")
    [msg] = delivered(inst)
    assert msg["Subject"] == "test"
