"""End-to-end tests of the delivery agent's content checks (smtp_header_checks,
smtp_mime_header_checks, smtp_nested_header_checks, smtp_body_checks; lmtp_* as lmtp): a real
master, qmgr and smtp/lmtp, messages written into incoming/ by tests/helpers/qmgr_inject.c,
delivered to a scripted SMTP sink on loopback (tests/smtp_peer.py) that keeps the exact DATA
bytes it received. Assertions are on those bytes and on the log lines smtp(8) writes."""
import os
import re
import socket
import subprocess

import pytest

from instance import Instance, helper_path, wait_for
from smtp_peer import Peer

INJECT = helper_path("qmgr_inject")

MASTER_CF = (
    "qmgr unix n - n 300 1 qmgr\n"
    "cleanup unix n - n - 0 cleanup\n"
    "bounce unix - - n - 0 bounce\n"
    "defer unix - - n - 0 bounce\n"
    "smtp unix - - n - - smtp\n"
    "lmtp unix - - n - - smtp\n"
)


def make(port, tables, **extra):
    """An instance relaying everything to the sink; tables: parameter -> pcre table text."""
    main = {
        "default_transport": "smtp",
        "mydestination": "localhost",
        "relayhost": f"[127.0.0.1]:{port}",
        "smtp_connect_timeout": "5s",
        "smtp_helo_timeout": "10s",
        "minimal_backoff_time": "300s",
        "queue_run_delay": "300s",
    }
    main.update(extra)
    inst = Instance("smtpchk", main_cf=main)
    os.chmod(inst.root, 0o777)
    for name, text in tables.items():
        path = inst.etc / name
        path.write_text(text)
        inst.main[name] = f"pcre:{path}"
    inst.write_main_cf()
    inst.write_master_cf(MASTER_CF)
    return inst


def deliver(inst, body, rcpt="r@far.test"):
    """Queues one message, kicks qmgr and waits for its delivery log line; returns the ID."""
    r = subprocess.run(inst._as_user([INJECT, str(inst.spool), "s@example.org", rcpt]),
                       input=body, capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    qid = r.stdout.strip()
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(inst.spool / "public" / "qmgr"))
        s.sendall(b"I")
    inst.wait_log(f"{qid}: to=<{rcpt}>")
    return qid


def start(inst):
    inst.start_master()
    wait_for(lambda: (inst.spool / "public" / "qmgr").exists(), what="qmgr socket")


@pytest.fixture
def peer():
    p = Peer()
    yield p
    p.close()


def test_header_and_body_actions(peer):
    inst = make(peer.port, {
        "smtp_header_checks": (
            "/^Subject: secret (.*)/ REPLACE Subject: [redacted] $1\n"
            "/^From:/ PREPEND X-Relay-Note: checked on the way out\n"
            "/^X-Internal:/ IGNORE\n"
            "/^To: (.*)/ WARN external recipient $1\n"
            "/^X-Trace:/ WARN\n"
        ),
        "smtp_body_checks": "/^password: .*/ REPLACE password: ********\n",
    })
    try:
        start(inst)
        qid = deliver(inst, "Subject: secret plan\n"
                            "From: Sender <s@example.org>\n"
                            "X-Internal: host=build-7\n"
                            "\tsecond line of the internal header\n"
                            "To: r@far.test\n"
                            "X-Trace: a\n"
                            "\n"
                            "hello\n"
                            "password: hunter2\n"
                            "X-Internal: in the body, untouched\n")
        log = inst.log()
        assert re.search(rf"smtp\[\d+\]: {qid}: to=<r@far\.test>, .*status=sent", log)
        assert peer.messages[0][2] == (
            b"Subject: [redacted] plan\r\n"
            b"X-Relay-Note: checked on the way out\r\n"
            b"From: Sender <s@example.org>\r\n"
            b"To: r@far.test\r\n"
            b"X-Trace: a\r\n"
            b"\r\n"
            b"hello\r\n"
            b"password: ********\r\n"
            b"X-Internal: in the body, untouched\r\n")
        assert re.search(rf"smtp\[\d+\]: {qid}: replace: header Subject: secret plan: "
                         r"Subject: \[redacted\] plan\n", log)
        assert re.search(rf"smtp\[\d+\]: {qid}: prepend: header From: Sender "
                         r"<s@example\.org>: X-Relay-Note: checked on the way out\n", log)
        assert re.search(rf"smtp\[\d+\]: {qid}: warning: header To: r@far\.test: "
                         r"external recipient r@far\.test\n", log)
        assert re.search(rf"smtp\[\d+\]: {qid}: warning: header X-Trace: a\n", log)
        assert re.search(rf"smtp\[\d+\]: {qid}: replace: body password: hunter2: "
                         r"password: \*\*\*\*\*\*\*\*\n", log)
        assert "X-Internal" not in log  # IGNORE is silent
    finally:
        inst.cleanup()


def test_unsupported_actions_leave_the_message_alone(peer):
    inst = make(peer.port, {
        "smtp_header_checks": "/^Subject:/ REJECT not here\n/^X-Hold:/ HOLD\n",
    })
    try:
        start(inst)
        body = "Subject: hi\nX-Hold: 1\n\nbody\n"
        qid = deliver(inst, body)
        log = inst.log()
        assert re.search(rf"{qid}: to=<r@far\.test>, .*status=sent", log)
        assert peer.messages[0][2] == body.replace("\n", "\r\n").encode()
        assert re.search(r"smtp\[\d+\]: warning: unsupported command in smtp_header_checks map: "
                         r"REJECT not here\n", log)
        assert re.search(r"smtp\[\d+\]: warning: unsupported command in smtp_header_checks map: "
                         r"HOLD\n", log)
    finally:
        inst.cleanup()


def test_mime_and_nested_headers(peer):
    inst = make(peer.port, {
        "smtp_header_checks": "/^Subject:/ REPLACE Subject: outer checked\n",
        "smtp_mime_header_checks": "/^Content-Disposition: .*name=\"?(.*\\.exe)/ "
                                   "REPLACE Content-Disposition: attachment; name=\"$1.txt\"\n",
        "smtp_nested_header_checks": "/^Subject:/ PREPEND X-Nested: seen\n",
    })
    try:
        start(inst)
        deliver(inst, "Subject: outer\n"
                      "Content-Type: multipart/mixed; boundary=\"XX\"\n"
                      "\n"
                      "--XX\n"
                      "Content-Type: application/octet-stream\n"
                      "Content-Disposition: attachment; name=\"run.exe\"\n"
                      "Subject: a part header\n"
                      "\n"
                      "AAAA\n"
                      "--XX\n"
                      "Content-Type: message/rfc822\n"
                      "\n"
                      "Subject: inner\n"
                      "\n"
                      "Subject: inner body line\n"
                      "--XX--\n")
        assert peer.messages[0][2] == (
            b"Subject: outer checked\r\n"
            b"Content-Type: multipart/mixed; boundary=\"XX\"\r\n"
            b"\r\n"
            b"--XX\r\n"
            b"Content-Type: application/octet-stream\r\n"
            b"Content-Disposition: attachment; name=\"run.exe.txt\"\r\n"
            b"Subject: a part header\r\n"
            b"\r\n"
            b"AAAA\r\n"
            b"--XX\r\n"
            b"Content-Type: message/rfc822\r\n"
            b"\r\n"
            b"X-Nested: seen\r\n"
            b"Subject: inner\r\n"
            b"\r\n"
            b"Subject: inner body line\r\n"
            b"--XX--\r\n")
    finally:
        inst.cleanup()


def test_table_failure_defers_without_sending(peer):
    inst = make(peer.port, {}, smtp_body_checks="fail:broken")
    try:
        start(inst)
        qid = deliver(inst, "Subject: x\n\nbody\n")
        log = inst.log()
        assert re.search(rf"smtp\[\d+\]: warning: {qid}: smtp_body_checks lookup error: ", log)
        assert re.search(rf"{qid}: to=<r@far\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
                         rf"{peer.port}, .*dsn=4\.3\.0, status=deferred \(local data error "
                         r"while talking to 127\.0\.0\.1\[127\.0\.0\.1\]\)", log)
        # The sink saw DATA begin but never the final ".": nothing was accepted, and the
        # connection was dropped before any content went out.
        assert "DATA" in peer.commands
        wait_for(lambda: peer.aborted, what="the abandoned DATA")
        assert peer.messages == []
        assert peer.aborted == [b""]
    finally:
        inst.cleanup()


def test_lmtp_uses_lmtp_tables(peer):
    inst = make(peer.port, {
        "smtp_header_checks": "/^Subject:/ REPLACE Subject: from smtp_header_checks\n",
        "lmtp_header_checks": "/^Subject:/ REPLACE Subject: from lmtp_header_checks\n",
    }, default_transport=f"lmtp:[127.0.0.1]:{peer.port}", relayhost="")
    try:
        start(inst)
        qid = deliver(inst, "Subject: x\n\nbody\n")
        log = inst.log()
        assert re.search(rf"lmtp\[\d+\]: {qid}: to=<r@far\.test>, .*status=sent", log)
        assert "LHLO mail.example.test" in peer.commands
        assert peer.messages[0][2] == b"Subject: from lmtp_header_checks\r\n\r\nbody\r\n"
        assert re.search(rf"lmtp\[\d+\]: {qid}: replace: header Subject: x: "
                         r"Subject: from lmtp_header_checks\n", log)
    finally:
        inst.cleanup()
