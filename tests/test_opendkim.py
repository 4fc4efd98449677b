"""End-to-end test of DKIM signing with the real OpenDKIM as an smtpd_milter, as seed 002 sets it
up (smtpd_milters = unix:.../opendkim.socket, Mode sv, mail from InternalHosts signed).

opendkim runs in the foreground with its own configuration and a key made by opendkim-genkey in
the instance's temp tree. Mail from 127.0.0.1 with From: someone@example.test goes through our
smtpd; the delivered copy must carry a DKIM-Signature (d=example.test, s=test) that python3-dkim
verifies against the generated public key (served by a dnsfunc, no real DNS), and that stops
verifying once the body is tampered with. Two messages in one SMTP session: both signed, so the
milter session is reused correctly across transactions."""
import os
import re
import smtplib
import subprocess

import pytest

from conftest import REPO
from instance import Instance, wait_for

OPENDKIM = "/usr/sbin/opendkim"
GENKEY = "/usr/sbin/opendkim-genkey"
dkim = pytest.importorskip("dkim")

pytestmark = pytest.mark.skipif(not (os.access(OPENDKIM, os.X_OK) and os.access(GENKEY, os.X_OK)),
                                reason="opendkim and opendkim-tools are not installed")


def shipped_master_cf(port):
    text = (REPO / "conf" / "master.cf").read_text()
    return text.replace("smtp      inet", f"127.0.0.1:{port} inet", 1)


def public_key_txt(path):
    """The TXT record value from opendkim-genkey's zone-file snippet (the quoted parts joined)."""
    return "".join(re.findall(r'"([^"]*)"', path.read_text())).encode()


def start_opendkim(inst):
    """opendkim -f with a configuration in the instance tree; returns (process, socket path).

    As root, opendkim starts as root and drops privileges itself (UserID = the instance user, who
    owns the key, so the unprivileged smtpd and cleanup can reach the socket); otherwise it runs as
    the current user, which is then also the instance user."""
    d = inst.root / "opendkim"
    d.mkdir()
    subprocess.run([GENKEY, "-D", str(d), "-d", "example.test", "-s", "test"], check=True,
                   capture_output=True, timeout=60)
    sock = d / "opendkim.sock"
    conf = d / "opendkim.conf"
    lines = [
        "Mode sv",
        "Domain example.test",
        "Selector test",
        f"KeyFile {d / 'test.private'}",
        f"Socket local:{sock}",
        "InternalHosts 127.0.0.1",
        "Syslog no",
        "UMask 007",
        f"PidFile {d / 'opendkim.pid'}",
        # The test tree is under /tmp (world-writable, sticky): opendkim's safe-key check walks
        # the path and refuses it; the key itself is still mode 0600.
        "RequireSafeKeys no",
        # Message-ID is not in the default set (RFC 6376's SHOULD list): sign it too, to check
        # that the one cleanup adds is there when the filter sees the headers.
        "SignHeaders From,To,Subject,Date,Message-ID",
        "SoftwareHeader yes",
    ]
    if os.geteuid() == 0:
        lines.append(f"UserID {inst.user}")
    conf.write_text("\n".join(lines) + "\n")
    if os.geteuid() == 0:
        for p in (d, *d.iterdir()):
            os.chown(p, inst.pw.pw_uid, inst.pw.pw_gid)
    err = open(d / "stderr", "w")
    proc = subprocess.Popen([OPENDKIM, "-f", "-x", str(conf)], stdout=err, stderr=err)
    inst.opendkim = proc
    try:
        wait_for(lambda: sock.exists() or proc.poll() is not None, 15, what="opendkim socket")
    finally:
        err.close()
    assert proc.poll() is None, f"opendkim exited: {(d / 'stderr').read_text()}"
    return proc, sock


@pytest.fixture
def inst():
    i = Instance("opendkim", main_cf={
        "mydestination": "$myhostname, localhost",
        "local_recipient_maps": "",
        "milter_default_action": "tempfail",
        "milter_command_timeout": "10s",
        "milter_content_timeout": "10s",
    })
    i.write_master_cf(shipped_master_cf(i.smtp_port))
    i.opendkim = None
    yield i
    print(i.log()[-6000:])  # shown by pytest when the test failed
    if i.opendkim is not None:
        i.opendkim.terminate()
        try:
            i.opendkim.wait(10)
        except subprocess.TimeoutExpired:
            i.opendkim.kill()
            i.opendkim.wait()
        errors = (i.root / "opendkim" / "stderr").read_text(errors="replace")
        print("opendkim stderr:", errors)
    i.cleanup()


def mbox(inst):
    path = inst.mail / inst.user
    return path.read_text() if path.exists() else ""


def messages(box):
    """The messages of an mbox as CRLF bytes, without the envelope From_ line."""
    parts = re.split(r"^From \S+ .*\n", box, flags=re.M)
    return [p.replace("\n", "\r\n").encode() for p in parts if p.strip()]


def signature(msg):
    m = re.search(rb"^DKIM-Signature:([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", msg, re.M)
    assert m, msg.decode(errors="replace")
    tags = dict(t.strip().split(b"=", 1) for t in re.sub(rb"\s+", b"", m.group(1)).split(b";")
                if b"=" in t)
    return tags


def test_opendkim_signs_every_message_of_a_session(inst):
    proc, sock = start_opendkim(inst)
    inst.main["smtpd_milters"] = f"unix:{sock}"
    inst.write_main_cf()
    inst.start_master()
    rcpt = f"{inst.user}@localhost"
    first = ("From: Someone <someone@example.test>\r\n"
             f"To: <{rcpt}>\r\n"
             "Subject: signed one\r\n"
             "Date: Mon, 02 Jun 2025 10:00:00 +0000\r\n"
             "Message-ID: <one@example.test>\r\n"
             "\r\n"
             "The first body.\r\nSecond line.\r\n")
    # No Date or Message-ID: cleanup adds them before the milter sees the headers (as Postfix
    # does), so they are what is signed and delivered.
    second = ("From: someone@example.test\r\n"
              f"To: {rcpt}\r\n"
              "Subject: signed two\r\n"
              "\r\n"
              "The second body.\r\n")
    ids = []
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as s:
        s.ehlo("client.example.test")
        for text in (first, second):
            s.mail("someone@example.test")
            s.rcpt(rcpt)
            code, reply = s.data(text.encode())
            assert code == 250, reply
            m = re.search(r"queued as (\w+)", reply.decode())
            assert m, reply
            ids.append(m.group(1))
    wait_for(lambda: mbox(inst).count("Subject: signed") == 2, 30, what="both delivered")
    assert proc.poll() is None, "opendkim died"
    msgs = messages(mbox(inst))
    assert len(msgs) == 2
    txt = public_key_txt(inst.root / "opendkim" / "test.txt")
    looked_up = []

    def dnsfunc(name, timeout=5):
        looked_up.append(name)
        return txt if name == b"test._domainkey.example.test." else None

    for msg, subject, qid in zip(msgs, (b"signed one", b"signed two"), ids):
        assert b"Subject: " + subject in msg
        # the filter's own header, with the job ID from the {i} macro: this message's queue ID
        assert re.search(rb"^DKIM-Filter: OpenDKIM Filter v\S+ \S+ " + qid.encode() + rb"\r$",
                         msg, re.M), msg.decode(errors="replace")
        tags = signature(msg)
        assert tags[b"d"] == b"example.test" and tags[b"s"] == b"test", tags
        assert b"from" in tags[b"h"].lower().split(b":"), tags
        assert msg.count(b"DKIM-Signature:") == 1
        assert dkim.verify(msg, dnsfunc=dnsfunc), msg.decode(errors="replace")
        # a tampered body no longer verifies
        head, body = msg.split(b"\r\n\r\n", 1)
        tampered = head + b"\r\n\r\n" + body.replace(b"body", b"BODY", 1)
        assert tampered != msg
        assert not dkim.verify(tampered, dnsfunc=dnsfunc)
        # nor does a changed signed header
        assert not dkim.verify(msg.replace(b"Subject: " + subject, b"Subject: forged"),
                               dnsfunc=dnsfunc)
    assert looked_up and set(looked_up) == {b"test._domainkey.example.test."}
    # the second message was signed with the headers cleanup added
    second_msg = msgs[1]
    assert re.search(rb"^Date: ", second_msg, re.M)
    assert re.search(rb"^Message-Id: <\d{14}\." + ids[1].encode() + rb"@mail\.example\.test>\r$",
                     second_msg, re.M), second_msg.decode(errors="replace")
    h = [x.lower() for x in signature(second_msg)[b"h"].split(b":")]
    assert b"date" in h and b"message-id" in h, h
    assert b"message-id" in [x.lower() for x in signature(msgs[0])[b"h"].split(b":")]
    # one SMTP session, one milter session: both messages accepted, no milter warnings
    log = inst.log()
    assert "warning: milter" not in log, log
    assert log.count("status=sent") == 2


def test_mail_from_elsewhere_is_not_signed(inst):
    # A From: domain opendkim does not sign for: verified (no signature), not signed.
    proc, sock = start_opendkim(inst)
    inst.main["smtpd_milters"] = f"unix:{sock}"
    inst.write_main_cf()
    inst.start_master()
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as s:
        s.sendmail("other@example.org", [f"{inst.user}@localhost"],
                   "From: other@example.org\r\nSubject: unsigned\r\n\r\nbody\r\n")
    wait_for(lambda: "Subject: unsigned" in mbox(inst), 30, what="delivery")
    assert "DKIM-Signature:" not in mbox(inst)
    assert proc.poll() is None

