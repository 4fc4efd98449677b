"""End-to-end tests of the smtp/lmtp delivery agent: a real master, qmgr, cleanup and bounce,
messages written into incoming/ by tests/helpers/qmgr_inject.c, delivered by `smtp` to a
scripted peer on loopback (tests/smtp_peer.py) or by `lmtp` to an aiosmtpd LMTP server on a
unix socket."""
import asyncio
import os
import re
import socket
import subprocess
import threading

import pytest

from conftest import WITH_TEST_DNS

from instance import Instance, free_port, helper_path, wait_for
from smtp_peer import Peer

INJECT = helper_path("qmgr_inject")
BODY = "Subject: test\n\nhello\n.dot line\nend\n"
BODY_WIRE = b"Subject: test\r\n\r\nhello\r\n..dot line\r\nend\r\n"

MASTER_CF = (
    "qmgr unix n - n 300 1 qmgr\n"
    "cleanup unix n - n - 0 cleanup\n"
    "bounce unix - - n - 0 bounce\n"
    "defer unix - - n - 0 bounce\n"
    "smtp unix - - n - - smtp\n"
    "lmtp unix - - n - - smtp\n"
    "discard unix - - n - - discard\n"
)


def make(port, **extra):
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
    i = Instance("smtpc", main_cf=main)
    os.chmod(i.root, 0o777)
    i.write_master_cf(MASTER_CF)
    return i


def inject(inst, sender, *rcpts, body=BODY):
    r = subprocess.run(inst._as_user([INJECT, str(inst.spool), sender, *rcpts]),
                       input=body, capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def trigger(inst):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(inst.spool / "public" / "qmgr"))
        s.sendall(b"I")


def start(inst):
    inst.start_master()
    wait_for(lambda: (inst.spool / "public" / "qmgr").exists(), what="qmgr socket")


@pytest.fixture
def peer():
    p = Peer(rcpt_script={
        "soft@far.test": "450 4.2.0 <soft@far.test>: Recipient address rejected: try later",
        "hard@far.test": "550 5.1.1 <hard@far.test>: Recipient address rejected: User unknown",
    })
    yield p
    p.close()


@pytest.fixture
def inst(peer):
    i = make(peer.port)
    yield i
    i.cleanup()


def test_per_recipient_results_and_logs(inst, peer):
    start(inst)
    qid = inject(inst, "sender@example.org", "ok@far.test", "soft@far.test", "hard@far.test")
    trigger(inst)
    inst.wait_log(f"{qid}: sender non-delivery notification: ")
    log = inst.log()
    relay = rf"127\.0\.0\.1\[127\.0\.0\.1\]:{peer.port}"
    assert re.search(rf"smtp\[\d+\]: {qid}: to=<ok@far\.test>, relay={relay}, delay=[\d.]+, "
                     r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, status=sent "
                     r"\(250 2\.0\.0 Ok: queued as PEER0\)", log)
    assert re.search(rf"{qid}: to=<soft@far\.test>, relay={relay}, .*dsn=4\.2\.0, "
                     r"status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 450 4\.2\.0 "
                     r"<soft@far\.test>: Recipient address rejected: try later \(in reply to "
                     r"RCPT TO command\)\)", log)
    assert re.search(rf"{qid}: to=<hard@far\.test>, relay={relay}, .*dsn=5\.1\.1, "
                     r"status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 "
                     r"<hard@far\.test>: Recipient address rejected: User unknown \(in reply to "
                     r"RCPT TO command\)\)", log)
    assert peer.messages[0] == ("sender@example.org", ["ok@far.test"], BODY_WIRE)
    # PIPELINING: MAIL, the RCPTs and DATA arrived as one group.
    grouped = [c for c in peer.chunks if c.startswith(b"MAIL FROM:")]
    assert re.fullmatch(rb"MAIL FROM:<sender@example\.org> SIZE=\d+\r\n"
                        rb"RCPT TO:<ok@far\.test>\r\nRCPT TO:<soft@far\.test>\r\n"
                        rb"RCPT TO:<hard@far\.test>\r\nDATA\r\n", grouped[0])
    defer_log = next((inst.spool / "defer").rglob(qid)).read_text()
    assert "recipient=soft@far.test\n" in defer_log


def test_connection_reuse(peer):
    inst = make(peer.port, smtp_destination_concurrency_limit="1",
                initial_destination_concurrency="1")
    try:
        start(inst)
        ids = [inject(inst, "sender@example.org", f"r{n}@far.test") for n in range(5)]
        trigger(inst)
        for qid in ids:
            inst.wait_log(f"{qid}: removed")
        assert len(peer.messages) == 5
        assert peer.sessions == 1
        assert peer.commands.count("RSET") == 4
        # The idle session is closed after smtp_connection_cache_time_limit (2s).
        wait_for(lambda: "QUIT" in peer.commands, timeout=8, what="QUIT of the idle session")
    finally:
        inst.cleanup()


def test_lost_connection_after_rcpt(inst, peer):
    peer.rcpt_script["drop@far.test"] = "close"
    start(inst)
    qid = inject(inst, "sender@example.org", "drop@far.test")
    trigger(inst)
    inst.wait_log(f"{qid}: to=<drop@far.test>")
    assert re.search(rf"{qid}: to=<drop@far\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
                     rf"{peer.port}, .*dsn=4\.4\.2, status=deferred \(lost connection with "
                     r"127\.0\.0\.1\[127\.0\.0\.1\] while sending RCPT TO\)", inst.log())


def test_421_defers_the_rest(inst, peer):
    peer.ehlo.remove("PIPELINING")
    peer.rcpt_script["b@far.test"] = "421 4.7.0 peer.test closing connection"
    start(inst)
    qid = inject(inst, "sender@example.org", "a@far.test", "b@far.test", "c@far.test")
    trigger(inst)
    inst.wait_log(f"{qid}: to=<c@far.test>")
    log = inst.log()
    text = (r"host 127\.0\.0\.1\[127\.0\.0\.1\] said: 421 4\.7\.0 peer\.test closing "
            r"connection \(in reply to RCPT TO command\)")
    assert re.search(rf"{qid}: to=<b@far\.test>, .*dsn=4\.7\.0, status=deferred \({text}\)", log)
    assert re.search(rf"{qid}: to=<c@far\.test>, .*dsn=4\.7\.0, status=deferred \({text}\)", log)
    assert re.search(rf"{qid}: to=<a@far\.test>, .*status=deferred", log)
    assert peer.messages == []


def test_connection_refused():
    port = free_port()
    inst = make(port)
    try:
        start(inst)
        qid = inject(inst, "sender@example.org", "x@far.test")
        trigger(inst)
        inst.wait_log(f"{qid}: to=<x@far.test>")
        assert re.search(rf"smtp\[\d+\]: {qid}: to=<x@far\.test>, relay=none, delay=[\d.]+, "
                         r"delays=[\d./]+, dsn=4\.4\.1, status=deferred \(connect to "
                         rf"127\.0\.0\.1\[127\.0\.0\.1\]:{port}: Connection refused\)", inst.log())
    finally:
        inst.cleanup()


def test_greeting_timeout():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    inst = make(port, smtp_helo_timeout="1s")
    try:
        start(inst)
        qid = inject(inst, "sender@example.org", "x@far.test")
        trigger(inst)
        inst.wait_log(f"{qid}: to=<x@far.test>")
        assert re.search(rf"{qid}: to=<x@far\.test>, .*dsn=4\.4\.2, status=deferred "
                         r"\(conversation with 127\.0\.0\.1\[127\.0\.0\.1\] timed out while "
                         r"receiving the initial server greeting\)", inst.log())
    finally:
        inst.cleanup()
        srv.close()


def test_size_limit_bounces(peer):
    peer.ehlo[1] = "SIZE 10"
    inst = make(peer.port)
    try:
        start(inst)
        qid = inject(inst, "sender@example.org", "big@far.test")
        trigger(inst)
        inst.wait_log(f"{qid}: to=<big@far.test>")
        assert re.search(rf"{qid}: to=<big@far\.test>, .*dsn=5\.3\.4, status=bounced \(message "
                         r"size \d+ exceeds size limit 10 of server 127\.0\.0\.1\[127\.0\.0\.1\]\)",
                         inst.log())
        assert peer.messages == []
    finally:
        inst.cleanup()


class LmtpServer:
    """aiosmtpd's LMTP server on a unix socket, in its own thread and event loop."""

    def __init__(self, path, rcpt_replies):
        from aiosmtpd.lmtp import LMTP
        self.messages = []
        outer = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):
                reply = rcpt_replies.get(address, "250 2.1.5 OK")
                if reply.startswith("2"):
                    envelope.rcpt_tos.append(address)
                return reply

            async def handle_DATA(self, server, session, envelope):
                outer.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                       envelope.original_content))
                return "250 2.0.0 Delivered"

        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(self.loop.create_unix_server(
                lambda: LMTP(Handler()), path))
            os.chmod(path, 0o777)
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(5)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_lmtp_unix_socket():
    inst = make(1, default_transport="lmtp:unix:private/test-lmtp", relayhost="")
    srv = None
    try:
        start(inst)
        srv = LmtpServer(str(inst.spool / "private" / "test-lmtp"),
                         {"no@far.test": "550 5.1.1 no such user"})
        qid = inject(inst, "sender@example.org", "u@far.test", "no@far.test")
        trigger(inst)
        inst.wait_log(f"{qid}: to=<no@far.test>")
        wait_for(lambda: f"{qid}: to=<u@far.test>" in inst.log(), what="u log line")
        log = inst.log()
        relay = rf"mail\.example\.test\[private/test-lmtp\]"
        assert re.search(rf"lmtp\[\d+\]: {qid}: to=<u@far\.test>, relay={relay}, .*dsn=2\.0\.0, "
                         r"status=sent \(250 2\.0\.0 Delivered\)", log)
        assert re.search(rf"{qid}: to=<no@far\.test>, relay={relay}, .*dsn=5\.1\.1, "
                         r"status=bounced \(host mail\.example\.test\[private/test-lmtp\] said: "
                         r"550 5\.1\.1 no such user \(in reply to RCPT TO command\)\)", log)
        assert srv.messages[0][1] == ["u@far.test"]
        assert srv.messages[0][2] == BODY_WIRE.replace(b"..dot", b".dot")
    finally:
        if srv:
            srv.close()
        inst.cleanup()


DNS_TOOL = WITH_TEST_DNS


def test_mx_preference_under_test_dns(tmp_path):
    """Runs itself under with-test-dns: MX order (the lower preference is refused, the next
    one delivers)."""
    if os.environ.get("KESTREL_IN_TEST_DNS") != "1":
        if os.geteuid() != 0 or not os.path.exists(DNS_TOOL):
            pytest.skip("needs root and shared/tools/with-test-dns")
        zone = tmp_path / "zone"
        zone.write_text("MX far.example mx1.far.example 10\nMX far.example mx2.far.example 20\n"
                        "A mx1.far.example 127.0.0.9\nA mx2.far.example 127.0.0.1\n"
                        "A nomx.example 127.0.0.1\n")
        r = subprocess.run([DNS_TOOL, str(zone), "/usr/bin/python3", "-m", "pytest", "-q",
                            "-p", "no:cacheprovider", f"{__file__}::test_mx_preference_under_test_dns"],
                           env={**os.environ, "KESTREL_IN_TEST_DNS": "1"},
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        return
    peer = Peer()
    inst = make(peer.port, relayhost="", smtp_tcp_port=str(peer.port), smtp_connect_timeout="2s")
    try:
        start(inst)
        qid = inject(inst, "sender@example.org", "a@far.example")
        trigger(inst)
        inst.wait_log(f"{qid}: removed", timeout=20)
        log = inst.log()
        assert re.search(rf"{qid}: to=<a@far\.example>, relay=mx2\.far\.example\[127\.0\.0\.1\]:"
                         rf"{peer.port}, .*status=sent", log)
    finally:
        inst.cleanup()
        peer.close()
