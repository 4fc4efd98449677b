"""End-to-end tests of the pipe delivery agent: `pipe -S` with master.cf-style attributes
serves one delivery request; a script records its arguments and input and exits 0, 67 or 75."""
import os
import pathlib
import pwd
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import bin_path
from test_local import QUEUE_ID, queue_file, encode_attrs, decode_reply

SCRIPT = """#!/bin/sh
for a in "$@"; do printf '[%s]' "$a"; done > {d}/args
cat > {d}/input
case "$1" in
  fail67) echo "no such mailbox"; exit 67 ;;
  fail75) echo "try later"; exit 75 ;;
  fail1) echo "4.2.2 over quota"; exit 1 ;;
  sleep) sleep 5 ;;
esac
exit 0
"""


@pytest.fixture
def inst():
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="kestrel-pipe-"))
    for d in (tmp / "etc", tmp / "queue" / "active"):
        d.mkdir(parents=True)
    (tmp / "etc" / "main.cf").write_text(
        "queue_directory = %s/queue\nmaillog_file = %s/maillog\nmyhostname = mx.example.com\n"
        "recipient_delimiter = +\nfilter_time_limit = 2s\n" % (tmp, tmp))
    script = tmp / "filter.sh"
    script.write_text(SCRIPT.replace("{d}", str(tmp)))
    os.chmod(script, 0o755)
    os.chmod(tmp, 0o777)
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


def run_pipe(inst, attrs, rcpts, lines, sender="alice@example.org"):
    qf = inst / "queue" / "active" / QUEUE_ID
    qf.write_bytes(queue_file(sender, [r for r, _ in rcpts], lines))
    os.chmod(qf, 0o700)
    req = [("queue_name", "active"), ("queue_id", QUEUE_ID), ("sender", sender),
           ("nexthop", "Example.COM"), ("arrival_time", "1700000000.5"),
           ("queue_delay", "0.05"), ("active_time", "0.01"), ("client_address", "192.0.2.7"),
           ("client_helo", "helo.example"), ("rcpt_count", len(rcpts))]
    for i, (addr, orig) in enumerate(rcpts):
        req += [("rcpt_%d_address" % i, addr), ("rcpt_%d_orig" % i, orig)]
    user = ["user=nobody"] if os.getuid() == 0 else []
    env = dict(os.environ, MAIL_CONFIG=str(inst / "etc"))
    p = subprocess.run([bin_path("pipe"), "-S", "-n", "filter"] + user + attrs,
                       input=encode_attrs(req).encode(), capture_output=True, env=env,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    return decode_reply(p.stdout.decode())


def log_lines(inst):
    return [l.split(": ", 1)[1] for l in (inst / "maillog").read_text().splitlines()
            if "postfix/pipe[" in l and "to=<" in l]


DELAYS = r"delay=\d+(\.\d+)?, delays=0\.05/0\.01/0/[0-9.]+"


def test_sent_with_recipient_expansion(inst):
    argv = ["flags=Rq", "argv=%s/filter.sh" % inst, "-f", "${sender}", "--", "${recipient}",
            "x${user}y", "${nexthop}", "${client_address}", "${size}"]
    reply = run_pipe(inst, argv, [("a b@example.com", ""), ("Carol+ext@Example.COM", "")],
                     ["Subject: hi", "", "body"])
    assert reply["rcpt_count"] == "2"
    for i in (0, 1):
        assert reply["rcpt_%d_status" % i] == "sent"
        assert reply["rcpt_%d_dsn" % i] == "2.0.0"
        assert reply["rcpt_%d_reason" % i] == "delivered via filter service"
        assert reply["rcpt_%d_relay" % i] == "filter"
    # q quotes the local part; ${recipient} and ${user} become one argument per recipient.
    assert (inst / "args").read_text() == (
        '[-f][alice@example.org][--]["a b"@example.com][Carol+ext@Example.COM]'
        '[xa by][xCaroly][Example.COM][192.0.2.7][18]')
    assert (inst / "input").read_text() == (
        "Return-Path: <alice@example.org>\nSubject: hi\n\nbody\n")
    lines = log_lines(inst)
    assert len(lines) == 2
    assert re.fullmatch(QUEUE_ID + r': to=<"a b"@example.com>, relay=filter, ' + DELAYS +
                        r", dsn=2\.0\.0, status=sent \(delivered via filter service\)", lines[0])


def test_flags_headers_eol_and_case(inst):
    argv = ["flags=FDOXhu.>B", "eol=\\r\\n", "argv=%s/filter.sh" % inst, "${recipient}",
            "${mailbox}", "${extension}", "${domain}", "${nexthop}", "${original_recipient}"]
    reply = run_pipe(inst, argv, [("Bob+Tag@Example.COM", "Orig@Example.COM")],
                     ["Subject: s", "", ".dot", "From x"], sender="")
    assert reply["rcpt_0_status"] == "sent"
    assert (inst / "args").read_text() == (
        "[bob+tag@example.com][bob+tag][tag][example.com][example.com][orig@example.com]")
    data = (inst / "input").read_bytes()
    first, rest = data.split(b"\r\n", 1)
    assert re.fullmatch(rb"From MAILER-DAEMON  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}", first)
    assert rest == (b"X-Original-To: Orig@Example.COM\r\nDelivered-To: Bob+Tag@Example.COM\r\n"
                    b"Subject: s\r\n\r\n..dot\r\n>From x\r\n\r\n")


def test_exit_67_bounces_with_output(inst):
    reply = run_pipe(inst, ["argv=%s/filter.sh" % inst, "fail67"], [("u@example.com", "")],
                     ["", "x"])
    assert reply["rcpt_0_status"] == "bounced"
    assert reply["rcpt_0_dsn"] == "5.1.1"
    assert reply["rcpt_0_reason"] == "user unknown. Command output: no such mailbox "
    assert re.fullmatch(QUEUE_ID + r": to=<u@example\.com>, relay=filter, " + DELAYS +
                        r", dsn=5\.1\.1, status=bounced \(user unknown\. Command output: no such "
                        r"mailbox \)", log_lines(inst)[0])


def test_exit_75_defers(inst):
    reply = run_pipe(inst, ["argv=%s/filter.sh" % inst, "fail75"], [("u@example.com", "")],
                     ["", "x"])
    assert reply["rcpt_0_status"] == "deferred"
    assert reply["rcpt_0_dsn"] == "4.3.0"
    assert reply["rcpt_0_reason"] == "temporary failure. Command output: try later "
    assert "status=deferred (temporary failure. Command output: try later )" in log_lines(inst)[0]


def test_other_status_with_enhanced_code(inst):
    reply = run_pipe(inst, ["argv=%s/filter.sh" % inst, "fail1"], [("u@example.com", "")],
                     ["", "x"])
    assert reply["rcpt_0_status"] == "deferred"
    assert reply["rcpt_0_dsn"] == "4.2.2"
    assert reply["rcpt_0_reason"] == (
        'Command died with status 1: "%s/filter.sh". Command output: over quota ' % inst)


def test_time_limit(inst):
    reply = run_pipe(inst, ["argv=%s/filter.sh" % inst, "sleep"], [("u@example.com", "")],
                     ["", "x"])
    assert reply["rcpt_0_status"] == "deferred"
    assert reply["rcpt_0_reason"] == 'Command time limit exceeded: "%s/filter.sh"' % inst


def test_size_limit_and_unknown_macro(inst):
    reply = run_pipe(inst, ["size=3", "argv=%s/filter.sh" % inst], [("u@example.com", "")],
                     ["", "too long"])
    assert (reply["rcpt_0_status"], reply["rcpt_0_dsn"], reply["rcpt_0_reason"]) == (
        "bounced", "5.2.3", "message too large")
    reply = run_pipe(inst, ["argv=%s/filter.sh" % inst, "${bogus}"], [("u@example.com", "")],
                     ["", "x"])
    assert (reply["rcpt_0_status"], reply["rcpt_0_dsn"]) == ("deferred", "4.3.5")
    assert 'unknown macro name: "bogus"' in (inst / "maillog").read_text()
