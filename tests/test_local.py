"""End-to-end tests of the local delivery agent: `local -S` serves one delivery request on
stdin/stdout with a temporary queue_directory, mail spool and main.cf; the tests check the
reply, the mailbox bytes and the maillog_file line."""
import os
import pathlib
import shutil
import tempfile
import pwd
import re
import subprocess

import pytest

from conftest import bin_path

QUEUE_ID = "0C261A1F0F"


def record(rtype, data):
    if isinstance(data, str):
        data = data.encode()
    return rtype.encode() + str(len(data)).encode() + b":" + data + b"\n"


def queue_file(sender, rcpts, lines):
    """Bytes of a queue file in the documented format (docs/architecture.md)."""
    head = record("V", "1")
    tail = record("T", "1700000000.123456") + record("F", sender)
    for r in rcpts:
        tail += record("R", r)
    body = b"".join(record("L", l) for l in lines)
    size_len = len(record("C", "%15d %15d %15d" % (0, 0, 0)))
    offset = len(head) + size_len + len(tail) + len(b"M0:\n")
    size = record("C", "%15d %15d %15d" % (offset, len(body), len(rcpts)))
    return head + size + tail + record("M", "") + body + record("X", "") + record("E", "")


def encode_attrs(attrs):
    out = ""
    for k, v in attrs:
        v = "".join("%%%02X" % ord(c) if c == "%" or ord(c) < 0x20 or ord(c) == 0x7F else c
                    for c in str(v))
        out += "%s=%s\n" % (k, v)
    return out + "\n"


def decode_reply(text):
    lists = [block for block in text.split("\n\n") if block]
    assert lists[0] == "protocol=delivery"
    reply = {}
    for line in lists[1].split("\n"):
        k, v = line.split("=", 1)
        reply[k] = re.sub("%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), v)
    return reply


def recipient_user():
    return "nobody" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture
def inst():
    # Not under pytest's tmp_path: its parents are private to us, and as root the agent runs as
    # mail_owner, which must reach these files.
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix="kestrel-local-"))
    yield from _instance(tmp_path)
    shutil.rmtree(tmp_path, ignore_errors=True)


def _instance(tmp_path):
    etc = tmp_path / "etc"
    queue = tmp_path / "queue"
    spool = tmp_path / "spool"
    for d in (etc, queue / "active", spool):
        d.mkdir(parents=True)
    os.chmod(spool, 0o1777)
    aliases = tmp_path / "aliases"
    user = recipient_user()
    aliases.write_text("postmaster %s\nfiler %s/filed\nlooper1 looper2\nlooper2 looper1\n"
                       "piper |cat >> %s/piped\ntempfail |exit 75\nnouser \"|echo gone; exit 67\"\n" % (user, tmp_path, tmp_path))
    (etc / "main.cf").write_text(
        "queue_directory = %s\nmail_spool_directory = %s\nmaillog_file = %s/maillog\n"
        "myhostname = mx.example.com\nmydestination = example.com, localhost\n"
        "alias_maps = texthash:%s\nrecipient_delimiter = +\nforward_path =\nmail_owner = %s\n"
        % (queue, spool, tmp_path, aliases, user))
    os.chmod(tmp_path, 0o777)  # commands run as default_privs when we are root
    yield tmp_path


def deliver(inst, rcpts, lines, sender="alice@example.org"):
    qf = inst / "queue" / "active" / QUEUE_ID
    qf.write_bytes(queue_file(sender, [r[0] for r in rcpts], lines))
    os.chmod(qf, 0o700)
    if os.getuid() == 0:  # the skeleton runs the agent as mail_owner (nobody here)
        os.chown(qf, pwd.getpwnam("nobody").pw_uid, -1)
    attrs = [("queue_name", "active"), ("queue_id", QUEUE_ID), ("sender", sender),
             ("nexthop", "example.com"), ("arrival_time", "1700000000.5"),
             ("queue_delay", "0.05"), ("active_time", "0.01"), ("rcpt_count", len(rcpts))]
    for i, (addr, orig) in enumerate(rcpts):
        attrs += [("rcpt_%d_address" % i, addr), ("rcpt_%d_orig" % i, orig),
                  ("rcpt_%d_offset" % i, 0)]
    env = dict(os.environ, MAIL_CONFIG=str(inst / "etc"))
    p = subprocess.run([bin_path("local"), "-S"], input=encode_attrs(attrs).encode(),
                       capture_output=True, env=env, timeout=30)
    assert p.returncode == 0, p.stderr
    return decode_reply(p.stdout.decode())


def log_lines(inst):
    return [l.split(": ", 1)[1] for l in (inst / "maillog").read_text().splitlines()
            if "postfix/local[" in l and "to=<" in l]


DELAYS = r"delay=\d+(\.\d+)?, delays=0\.05/0\.01/0/[0-9.]+"


def test_mailbox_delivery_bytes_and_log(inst):
    user = recipient_user()
    reply = deliver(inst, [("%s@example.com" % user, "")],
                    ["Subject: hi", "", "From here", "body"])
    assert reply["rcpt_count"] == "1"
    assert reply["rcpt_0_status"] == "sent"
    assert reply["rcpt_0_dsn"] == "2.0.0"
    assert reply["rcpt_0_reason"] == "delivered to mailbox"
    data = (inst / "spool" / user).read_bytes()
    first, rest = data.split(b"\n", 1)
    assert re.fullmatch(rb"From alice@example\.org  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}", first)
    assert rest == ("Return-Path: <alice@example.org>\nX-Original-To: %s@example.com\n"
                    "Delivered-To: %s@example.com\nSubject: hi\n\n>From here\nbody\n\n"
                    % (user, user)).encode()
    lines = log_lines(inst)
    assert len(lines) == 1
    assert re.fullmatch(r"%s: to=<%s@example\.com>, relay=local, %s, dsn=2\.0\.0, "
                        r"status=sent \(delivered to mailbox\)" % (QUEUE_ID, user, DELAYS),
                        lines[0])


def test_unknown_user_bounces(inst):
    reply = deliver(inst, [("no-such-user-x@example.com", "")], ["", "x"])
    assert reply["rcpt_0_status"] == "bounced"
    assert reply["rcpt_0_dsn"] == "5.1.1"
    assert reply["rcpt_0_reason"] == 'unknown user: "no-such-user-x"'
    assert re.search(r"status=bounced \(unknown user: \"no-such-user-x\"\)", log_lines(inst)[0])


def test_alias_with_orig_to_and_extension(inst):
    user = recipient_user()
    reply = deliver(inst, [("postmaster+tag@example.com", "Admin@Example.com")],
                    ["", "x"])
    assert reply["rcpt_0_status"] == "sent", reply
    data = (inst / "spool" / user).read_bytes()
    assert b"\nX-Original-To: Admin@Example.com\nDelivered-To: %s@mx.example.com\n" % (
        user.encode()) in data
    assert "orig_to=<Admin@Example.com>" in log_lines(inst)[0]


def test_alias_loop_bounces(inst):
    reply = deliver(inst, [("looper1@example.com", "")], ["", "x"])
    assert reply["rcpt_0_status"] == "bounced"
    assert reply["rcpt_0_dsn"] == "5.4.6"
    assert reply["rcpt_0_reason"] == "mail forwarding loop for looper1@mx.example.com"


def test_delivered_to_loop(inst):
    user = recipient_user()
    reply = deliver(inst, [("%s@example.com" % user, "")],
                    ["Delivered-To: %s@EXAMPLE.com" % user, "", "x"])
    assert reply["rcpt_0_status"] == "bounced"
    assert reply["rcpt_0_reason"] == "mail forwarding loop for %s@example.com" % user
    assert not (inst / "spool" / user).exists()


def test_alias_file_and_command(inst):
    reply = deliver(inst, [("filer@example.com", ""), ("piper@example.com", "")],
                    ["Subject: s", "", "From x"])
    assert reply["rcpt_0_status"] == "sent", reply
    assert reply["rcpt_0_reason"] == "delivered to file: %s/filed" % inst
    assert reply["rcpt_1_status"] == "sent", reply
    assert reply["rcpt_1_reason"] == "delivered to command: cat >> %s/piped" % inst
    filed = (inst / "filed").read_bytes().split(b"\n", 1)[1]
    assert filed == (b"Return-Path: <alice@example.org>\nX-Original-To: filer@example.com\n"
                     b"Delivered-To: filer@example.com\nSubject: s\n\n>From x\n\n")
    piped = (inst / "piped").read_bytes().split(b"\n", 1)[1]
    assert piped == (b"Return-Path: <alice@example.org>\nX-Original-To: piper@example.com\n"
                     b"Delivered-To: piper@example.com\nSubject: s\n\nFrom x\n")


def test_symlinked_mailbox_is_refused(inst):
    user = recipient_user()
    (inst / "target").write_text("")
    os.symlink(inst / "target", inst / "spool" / user)
    reply = deliver(inst, [("%s@example.com" % user, "")], ["", "x"])
    assert reply["rcpt_0_status"] == "deferred"
    assert reply["rcpt_0_reason"].startswith("cannot update mailbox %s/spool/%s. " % (inst, user))
    assert (inst / "target").read_text() == ""


def test_command_exit_status_mapping(inst):
    reply = deliver(inst, [("tempfail@example.com", ""), ("nouser@example.com", "")], ["", "x"])
    assert (reply["rcpt_0_status"], reply["rcpt_0_dsn"]) == ("deferred", "4.3.0")
    assert reply["rcpt_0_reason"] == "temporary failure"
    assert (reply["rcpt_1_status"], reply["rcpt_1_dsn"]) == ("bounced", "5.1.1")
    assert reply["rcpt_1_reason"] == "user unknown. Command output: gone"
