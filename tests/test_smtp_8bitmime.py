"""End-to-end tests of the smtp client's 8BITMIME downgrade (disable_mime_output_conversion):
8-bit mail to a peer that does not announce 8BITMIME goes out quoted-printable and decodes back
to the original text (Python's email package); to a peer with 8BITMIME, or with the conversion
disabled, it goes out unchanged; mail nested deeper than mime_nesting_limit cannot be converted
and bounces (5.6.0), as in Postfix."""
import email
import email.policy
import re
import subprocess

import pytest

from smtp_peer import Peer
from test_smtp_client import INJECT, make, start, trigger

NO_8BIT_EHLO = ("PIPELINING", "SIZE 10000000", "DSN", "ENHANCEDSTATUSCODES")

TEXT = "Grüße aus Köln, café = 5 € \nzweite Zeile\t\n" + "ä" * 60 + "\n"
PLAIN = ("From: sender@example.org\nTo: rcpt@far.test\nSubject: umlauts\n\n" + TEXT).encode()

SEVEN = "seven-bit part = plain ascii\n"
MULTIPART = ("From: sender@example.org\n"
             "Subject: parts\n"
             "MIME-Version: 1.0\n"
             "Content-Type: multipart/mixed; boundary=\"xyz\"\n"
             "\n"
             "preamble\n"
             "--xyz\n"
             "Content-Type: text/plain; charset=utf-8\n"
             "Content-Transfer-Encoding: 8bit\n"
             "\n" + TEXT +
             "--xyz\n"
             "Content-Type: text/plain; charset=us-ascii\n"
             "\n" + SEVEN +
             "--xyz--\n").encode()


def inject_bytes(inst, body, sender="sender@example.org", rcpt="rcpt@far.test"):
    r = subprocess.run(inst._as_user([INJECT, str(inst.spool), sender, rcpt]), input=body,
                       capture_output=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().strip()


def deliver(peer, body, **extra):
    inst = make(peer.port, **extra)
    try:
        start(inst)
        qid = inject_bytes(inst, body)
        trigger(inst)
        inst.wait_log(f"{qid}: to=<rcpt@far.test>")
        return qid, inst.log()
    finally:
        inst.cleanup()


def mail_from(peer):
    return [c for c in peer.commands if c.startswith("MAIL FROM:")]


def wire(body):
    """What an unconverted message looks like on the wire (no dot lines in these)."""
    return body.replace(b"\n", b"\r\n")


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.compat32)


def decoded(part):
    return part.get_payload(decode=True).replace(b"\r\n", b"\n").decode("utf-8")


def assert_7bit_lines(data):
    assert all(b < 0x80 for b in data)
    assert all(len(line) <= 76 for line in data.split(b"\r\n"))


@pytest.fixture
def peer7():
    p = Peer(ehlo=NO_8BIT_EHLO)
    yield p
    p.close()


@pytest.fixture
def peer8():
    p = Peer()
    yield p
    p.close()


def test_plain_message_converted_for_7bit_peer(peer7):
    qid, log = deliver(peer7, PLAIN)
    assert re.search(rf"{qid}: to=<rcpt@far\.test>, .*status=sent", log)
    [(_, _, data)] = peer7.messages
    assert_7bit_lines(data)
    head = data.split(b"\r\n\r\n", 1)[0]
    assert head.endswith(b"\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable")
    assert b"caf=C3=A9 =3D 5 =E2=82=AC=20\r\n" in data  # '=' and the trailing space encoded
    assert b"zweite Zeile=09\r\n" in data
    msg = parse(data)
    assert msg["Subject"] == "umlauts"
    assert decoded(msg) == TEXT
    assert "BODY=" not in mail_from(peer7)[0]


def test_multipart_only_8bit_part_converted(peer7):
    qid, log = deliver(peer7, MULTIPART)
    assert re.search(rf"{qid}: to=<rcpt@far\.test>, .*status=sent", log)
    [(_, _, data)] = peer7.messages
    assert_7bit_lines(data)
    # the container keeps its headers; the 7-bit part is unchanged
    assert data.startswith(wire(MULTIPART.split(b"--xyz\n")[0]))
    assert wire(b"--xyz\nContent-Type: text/plain; charset=us-ascii\n\n" + SEVEN.encode() +
                b"--xyz--\n") in data
    assert data.count(b"Content-Transfer-Encoding:") == 1
    assert (b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n") in data
    msg = parse(data)
    assert msg.is_multipart()
    first, second = msg.get_payload()
    assert first["Content-Transfer-Encoding"] == "quoted-printable"
    assert decoded(first) == TEXT[:-1]  # the last line break belongs to the boundary
    assert second.get_payload() == SEVEN[:-1]


def test_8bitmime_peer_gets_it_unchanged(peer8):
    qid, log = deliver(peer8, MULTIPART)
    assert re.search(rf"{qid}: to=<rcpt@far\.test>, .*status=sent", log)
    [(_, _, data)] = peer8.messages
    assert data == wire(MULTIPART)
    assert mail_from(peer8)[0].endswith(" BODY=8BITMIME")


def test_conversion_disabled(peer7):
    qid, log = deliver(peer7, PLAIN, disable_mime_output_conversion="yes")
    assert re.search(rf"{qid}: to=<rcpt@far\.test>, .*status=sent", log)
    [(_, _, data)] = peer7.messages
    assert data == wire(PLAIN)
    assert "BODY=" not in mail_from(peer7)[0]


def test_7bit_message_unchanged_for_7bit_peer(peer7):
    body = b"Subject: ascii\n\nplain = text \n"
    qid, log = deliver(peer7, body)
    assert re.search(rf"{qid}: to=<rcpt@far\.test>, .*status=sent", log)
    assert peer7.messages[0][2] == wire(body)


def test_too_deep_nesting_cannot_be_converted(peer7):
    body = ("MIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=a\n\n"
            "--a\n"
            "Content-Type: multipart/mixed; boundary=b\n\n"
            "--b\n\n"
            "é\n"
            "--b--\n"
            "--a--\n").encode()
    qid, log = deliver(peer7, body, mime_nesting_limit="1")
    assert re.search(rf"{qid}: to=<rcpt@far\.test>, .*dsn=5\.6\.0, status=bounced "
                     r"\(MIME nesting exceeds safety limit\)", log)
    # nothing of it went out: the connection was dropped before the final "." (the sender's
    # bounce, which quotes the message, may meet the same fate meanwhile)
    assert not any(rcpts == ["rcpt@far.test"] for _, rcpts, _ in peer7.messages)
    assert peer7.aborted and peer7.aborted[0] == b""
