"""End-to-end tests of the virtual delivery agent: `virtual -S` with virtual_mailbox_maps,
virtual_uid_maps (a table) and virtual_gid_maps (static:), Maildir and mbox mailboxes."""
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import bin_path
from test_local import QUEUE_ID, queue_file, encode_attrs, decode_reply

ROOT = os.getuid() == 0
UID = 5000 if ROOT else os.getuid()
GID = 5001 if ROOT else os.getgid()


@pytest.fixture
def inst():
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="kestrel-virtual-"))
    base = tmp / "vmail"
    for d in (tmp / "etc", tmp / "queue" / "active", base / "example.com"):
        d.mkdir(parents=True)
    os.chmod(tmp, 0o755)
    if ROOT:
        os.chown(base / "example.com", UID, GID)
    (tmp / "mailboxes").write_text("ann@example.com example.com/ann/\n"
                                   "bob@example.com example.com/bob.mbox\n"
                                   "low@example.com example.com/low/\n"
                                   "evil@example.com ../outside/\n")
    (tmp / "uids").write_text("ann@example.com %d\nbob@example.com %d\nlow@example.com 12\n"
                              "evil@example.com %d\n" % (UID, UID, UID))
    (tmp / "etc" / "main.cf").write_text(
        "queue_directory = %s/queue\nmaillog_file = %s/maillog\nmyhostname = mx.example.com\n"
        "virtual_mailbox_base = %s\nvirtual_mailbox_maps = texthash:%s/mailboxes\n"
        "virtual_uid_maps = texthash:%s/uids\nvirtual_gid_maps = static:%d\n"
        "virtual_minimum_uid = 100\nrecipient_delimiter = +\n"
        % (tmp, tmp, base, tmp, tmp, GID))
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


def deliver(inst, rcpts, lines, sender="alice@example.org"):
    qf = inst / "queue" / "active" / QUEUE_ID
    qf.write_bytes(queue_file(sender, [r for r, _ in rcpts], lines))
    req = [("queue_name", "active"), ("queue_id", QUEUE_ID), ("sender", sender),
           ("nexthop", "example.com"), ("arrival_time", "1700000000.5"),
           ("queue_delay", "0.05"), ("active_time", "0.01"), ("rcpt_count", len(rcpts))]
    for i, (addr, orig) in enumerate(rcpts):
        req += [("rcpt_%d_address" % i, addr), ("rcpt_%d_orig" % i, orig)]
    env = dict(os.environ, MAIL_CONFIG=str(inst / "etc"))
    p = subprocess.run([bin_path("virtual"), "-S"], input=encode_attrs(req).encode(),
                       capture_output=True, env=env, timeout=30)
    assert p.returncode == 0, p.stderr
    return decode_reply(p.stdout.decode())


def log_lines(inst):
    return [l.split(": ", 1)[1] for l in (inst / "maillog").read_text().splitlines()
            if "postfix/virtual[" in l and "to=<" in l]


DELAYS = r"delay=\d+(\.\d+)?, delays=0\.05/0\.01/0/[0-9.]+"


def test_maildir_and_mbox_delivery(inst):
    reply = deliver(inst, [("ann@example.com", "info@example.com"), ("bob+x@example.com", "")],
                    ["Subject: hi", "", "From me", "body"])
    assert reply["rcpt_0_status"] == "sent"
    assert reply["rcpt_0_reason"] == "delivered to maildir"
    assert reply["rcpt_0_relay"] == "virtual"
    assert reply["rcpt_1_status"] == "sent", reply
    assert reply["rcpt_1_reason"] == "delivered to mailbox"
    md = inst / "vmail" / "example.com" / "ann"
    assert sorted(os.listdir(md)) == ["cur", "new", "tmp"]
    files = os.listdir(md / "new")
    assert len(files) == 1 and files[0].endswith(".mx.example.com")
    f = md / "new" / files[0]
    assert f.read_text() == ("Return-Path: <alice@example.org>\nX-Original-To: info@example.com\n"
                             "Delivered-To: ann@example.com\nSubject: hi\n\nFrom me\nbody\n")
    mbox = inst / "vmail" / "example.com" / "bob.mbox"
    text = mbox.read_text()
    assert text.startswith("From alice@example.org  ")
    assert text.split("\n", 1)[1] == ("Return-Path: <alice@example.org>\n"
                                      "Delivered-To: bob+x@example.com\nSubject: hi\n\n"
                                      ">From me\nbody\n\n")
    for p in (md, md / "new", f, mbox):
        st = os.stat(p)
        assert (st.st_uid, st.st_gid) == (UID, GID)
    lines = log_lines(inst)
    assert re.fullmatch(QUEUE_ID + r": to=<ann@example\.com>, orig_to=<info@example\.com>, "
                        r"relay=virtual, " + DELAYS +
                        r", dsn=2\.0\.0, status=sent \(delivered to maildir\)", lines[0])


def test_unknown_user_bounces(inst):
    reply = deliver(inst, [("nobody-here@example.com", "")], ["", "x"])
    assert (reply["rcpt_0_status"], reply["rcpt_0_dsn"], reply["rcpt_0_reason"]) == (
        "bounced", "5.1.1", 'unknown user: "nobody-here@example.com"')
    assert ('to=<nobody-here@example.com>, relay=virtual' in log_lines(inst)[0])
    assert log_lines(inst)[0].endswith(
        'dsn=5.1.1, status=bounced (unknown user: "nobody-here@example.com")')


def test_bad_path_and_low_uid_defer(inst):
    reply = deliver(inst, [("evil@example.com", ""), ("low@example.com", "")], ["", "x"])
    assert (reply["rcpt_0_status"], reply["rcpt_0_dsn"], reply["rcpt_0_reason"]) == (
        "deferred", "4.3.5", "mail system configuration error")
    assert not (inst / "outside").exists()
    if ROOT:  # the uid check applies only to a privileged agent
        assert (reply["rcpt_1_status"], reply["rcpt_1_dsn"]) == ("deferred", "4.3.5")
        assert "bad uid 12 in virtual_uid_maps" in (inst / "maillog").read_text()
    else:
        assert reply["rcpt_1_status"] == "sent"


def test_loop_and_size_limit(inst):
    reply = deliver(inst, [("ann@example.com", "")], ["Delivered-To: ann@example.com", "", "x"])
    assert (reply["rcpt_0_status"], reply["rcpt_0_dsn"]) == ("bounced", "5.4.6")
    with open(inst / "etc" / "main.cf", "a") as f:
        f.write("virtual_mailbox_limit = 20\n")
    reply = deliver(inst, [("bob@example.com", "")], ["Subject: a long message", "", "x" * 50])
    assert (reply["rcpt_0_status"], reply["rcpt_0_dsn"]) == ("bounced", "5.2.2")
