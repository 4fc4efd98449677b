"""End-to-end tests of the flush service (public/flush): ETRN and postqueue -s / -i deliver a
site's (or one message's) deferred mail at once, without waiting for the retry time; a site
outside fast_flush_domains is refused with Postfix's replies; malformed requests are refused."""
import re
import smtplib
import socket
import time

from conftest import REPO
from instance import Instance, free_port, wait_for
from smtp_peer import Peer


def make():
    port = free_port()
    inst = Instance("flush", main_cf={
        "mydestination": "localhost",
        "relay_domains": "example.net",
        "relayhost": f"[127.0.0.1]:{port}",
        "smtp_connect_timeout": "2s",
        "minimal_backoff_time": "1h",
        "maximal_backoff_time": "2h",
        "queue_run_delay": "1h",
        "smtp_connection_cache_on_demand": "no",  # each attempt sees the peer as it is now
    })
    text = (REPO / "conf" / "master.cf").read_text().replace(
        "smtp      inet", f"127.0.0.1:{inst.smtp_port} inet", 1)
    inst.write_master_cf(text)
    inst.start_master()
    return inst, port


def send(inst, rcpt, subject):
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        s.sendmail("a@example.org", [rcpt], f"Subject: {subject}\r\n\r\nx\r\n")


def deferred_ids(inst):
    return sorted(p.name for p in (inst.spool / "deferred").rglob("*") if p.is_file())


def test_etrn_and_postqueue_s_flush_a_site():
    inst, port = make()
    peer = None
    try:
        send(inst, "user@example.net", "to flush")
        wait_for(lambda: len(deferred_ids(inst)) == 1, 20, what="deferred")
        assert "status=deferred" in inst.log()
        peer = Peer(port=port)
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
            s.ehlo("client.example")
            assert s.docmd("ETRN", "other.example") == \
                (459, b"4.3.0 <other.example>: service unavailable")
            assert s.docmd("ETRN", "example.net") == (250, b"Queuing started")
        wait_for(lambda: peer.messages, 20, what="delivery after ETRN")
        assert b"Subject: to flush" in peer.messages[0][2]
        wait_for(lambda: deferred_ids(inst) == [], 10, what="deferred queue empty")
        assert "reject: ETRN other.example from" in inst.log()
        # postqueue -s and -i
        peer.close()
        peer = None
        send(inst, "user2@example.net", "second")
        wait_for(lambda: len(deferred_ids(inst)) == 1, 20, what="deferred again")
        qid = deferred_ids(inst)[0]
        r = inst.run("postqueue", "-s", "other.example")
        assert r.returncode == 69
        assert 'Flush service is not configured for destination "other.example"' in r.stderr
        peer = Peer(port=port)
        r = inst.run("postqueue", "-i", qid)
        assert r.returncode == 0, r.stderr
        wait_for(lambda: peer.messages, 20, what="delivery after postqueue -i")
        assert b"Subject: second" in peer.messages[0][2]
        r = inst.run("postqueue", "-s", "example.net")
        assert r.returncode == 0, r.stderr
    finally:
        if peer:
            peer.close()
        inst.cleanup()


def test_malformed_requests_are_refused():
    inst, _ = make()
    try:
        path = str(inst.spool / "public" / "flush")
        wait_for(lambda: (inst.spool / "public" / "flush").exists(), 10, what="flush socket")
        for req in (b"request=send_site\nsite=../../etc\n\n", b"request=bogus\n\n",
                    b"request=send_file\nqueue_id=../x\n\n", b"evil=1\n\n"):
            with socket.socket(socket.AF_UNIX) as c:
                c.settimeout(10)
                c.connect(path)
                c.sendall(req)
                data = b""
                while True:  # the service closes after its reply
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            assert b"status=2\n" in data, (req, data)
        r = inst.run("postqueue", "-s", "bad site!")
        assert r.returncode == 64 and "Invalid request" in r.stderr
    finally:
        inst.cleanup()
