"""End-to-end tests of smtpd against hostile clients: relay attempts from an outside address
(127.0.0.2, not in mynetworks) with every routing trick, access-map rejections as in the seed
setup, HTTP/proxy probes and header lines sent as commands, NUL bytes and invalid UTF-8 in
commands, CR injection through echoed text, addresses that look like code, and fail2ban's
postfix filter finding the rejected client in our log."""
import re
import socket
import subprocess

import pytest

from conftest import REPO
from instance import Instance
from test_smtpd_protocol import Raw, SMTPD_MASTER_CF, incoming, no_queue_files

OUTSIDE = "127.0.0.2"


class Outside(Raw):
    """A client connecting from 127.0.0.2."""

    def __init__(self, port, greet=True):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=15,
                                          source_address=(OUTSIDE, 0))
        self.buf = b""
        self.greeting = self.reply() if greet else None


@pytest.fixture(scope="module")
def inst():
    i = Instance("smtpdh", main_cf={
        "mydomain": "example.test", "myorigin": "example.test",
        "mynetworks": "127.0.0.1/32", "smtpd_error_sleep_time": "0",
        "mydestination": "$myhostname, localhost",
        "relay_domains": "relay.example.test",
        "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
        "smtpd_recipient_restrictions": "check_recipient_access inline:{haha@example.com=REJECT}",
    })
    i.write_master_cf(SMTPD_MASTER_CF.format(port=i.smtp_port))
    i.start_master()
    yield i
    i.cleanup()


def test_relay_denied_and_logged(inst):
    c = Outside(inst.smtp_port)
    c.cmd("EHLO outside.example")
    assert c.cmd("MAIL FROM:<spam@example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<victim@elsewhere.example>") == \
        "554 5.7.1 <victim@elsewhere.example>: Relay access denied"
    c.cmd("QUIT")
    inst.wait_log("Relay access denied; from=<spam@example.org> to=<victim@elsewhere.example>")
    inst.wait_log("commands=3/4")  # the disconnect line comes after the QUIT reply
    assert re.search(r"smtpd\[\d+\]: NOQUEUE: reject: RCPT from \S+\[127\.0\.0\.2\]: 554 5\.7\.1 "
                     r"<victim@elsewhere\.example>: Relay access denied; from=<spam@example\.org> "
                     r"to=<victim@elsewhere\.example> proto=ESMTP helo=<outside\.example>$",
                     inst.log(), re.M)
    assert re.search(r"disconnect from \S+\[127\.0\.0\.2\] ehlo=1 mail=1 rcpt=0/1 quit=1 "
                     r"commands=3/4$", inst.log(), re.M)


@pytest.mark.parametrize("rcpt", [
    "<user%elsewhere.example@mail.example.test>",
    "<\"user@elsewhere.example\"@mail.example.test>",
    "<@mail.example.test:user@elsewhere.example>",
    "<user@elsewhere.example@mail.example.test>",
    "<elsewhere.example!user@mail.example.test>",
    "<user@elsewhere.example.>",
    "<user%elsewhere.example@relay.example.test>",
    "<\"user@elsewhere.example\"@relay.example.test>",
])
def test_open_relay_tricks_refused(inst, rcpt):
    c = Outside(inst.smtp_port)
    c.cmd("HELO outside.example")
    c.cmd("MAIL FROM:<a@example.org>")
    r = c.cmd(f"RCPT TO:{rcpt}")
    assert r[0] in "45", r
    c.cmd("QUIT")


def test_seed_access_map_reject(inst):
    c = Raw(inst.smtp_port)
    assert c.cmd("helo localhost") == "250 mail.example.test"
    assert c.cmd("mail from:test@gmail.com") == "250 2.1.0 Ok"
    assert c.cmd("rcpt to:haha@example.com") == \
        "554 5.7.1 <haha@example.com>: Recipient address rejected: Access denied"
    assert c.cmd("quit") == "221 2.0.0 Bye"


@pytest.mark.parametrize("probe", ["GET / HTTP/1.1", "POST /cgi-bin/x HTTP/1.0",
                                   "CONNECT 10.0.0.1:25 HTTP/1.0", "USER root",
                                   "Host: example.com"])
def test_non_smtp_probes(inst, probe):
    c = Outside(inst.smtp_port)
    assert c.cmd(probe) == "221 2.7.0 Error: I can break rules, too. Goodbye."
    assert c.closed()
    inst.wait_log(f"warning: non-SMTP command from ")


def test_nul_and_invalid_utf8_refused(inst):
    c = Outside(inst.smtp_port)
    c.send(b"HELO a\x00b\r\n")
    assert c.reply() == ["500 5.5.2 Error: bad syntax"]
    c.send(b"HELO a\xff\xfeb\r\n")
    assert c.reply() == ["500 5.5.2 Error: bad UTF-8 syntax"]
    c.send(b"MAIL FROM:<a\xc0\xafb@example.org>\r\n")
    assert c.reply() == ["500 5.5.2 Error: bad UTF-8 syntax"]
    assert c.cmd("QUIT") == "221 2.0.0 Bye"


def test_echoed_text_cannot_inject(inst):
    c = Raw(inst.smtp_port)
    # A bare CR inside the HELO name: echoed nowhere raw, logged and queued sanitised.
    c.send(b"EHLO evil\rInjected: yes\r\n")
    assert c.reply()[0] == "250-mail.example.test"
    c.cmd("MAIL FROM:<a@example.org>")
    assert c.cmd("RCPT TO:<haha@example.com>").startswith("554 5.7.1 <haha@example.com>")
    assert c.cmd("VRFY <x\"\r\"y@example.test>")[0] in "25"
    c.cmd("QUIT")
    log = inst.log()
    assert "helo=<evil?Injected: yes>" in log
    assert "\rInjected" not in log


@pytest.mark.parametrize("rcpt", ["<|/bin/sh@mail.example.test>", "</etc/passwd@mail.example.test>",
                                  "<:include:/etc/passwd@mail.example.test>",
                                  "<${run}@mail.example.test>", "<-oQ/tmp@mail.example.test>",
                                  "<\"|touch /tmp/x\"@mail.example.test>"])
def test_addresses_are_data(inst, rcpt):
    c = Outside(inst.smtp_port)
    c.cmd("HELO outside.example")
    c.cmd("MAIL FROM:<a@example.org>")
    r = c.cmd(f"RCPT TO:{rcpt}")
    assert r[0] == "5", r
    c.cmd("QUIT")


def test_8bit_address_needs_smtputf8(inst):
    c = Raw(inst.smtp_port)
    c.cmd("EHLO x")
    assert c.cmd("MAIL FROM:<j\u00f6rg@example.org>") == \
        "553 5.6.7 Must declare SMTPUTF8 to send unicode address"
    assert c.cmd("MAIL FROM:<j\u00f6rg@example.org> SMTPUTF8") == "250 2.1.0 Ok"
    c.cmd("QUIT")


def test_rejected_transaction_does_not_carry_data(inst):
    c = Outside(inst.smtp_port)
    c.cmd("EHLO outside.example")
    c.cmd("MAIL FROM:<a@example.org>")
    assert c.cmd("RCPT TO:<x@elsewhere.example>").startswith("554 ")
    assert c.cmd("DATA") == "503 5.5.1 Error: need RCPT command"
    c.send(b"BDAT 5 LAST\r\nhello")
    assert c.reply() == ["503 5.5.1 Error: need RCPT command"]
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.cmd("QUIT")
    assert no_queue_files(inst)


def test_fail2ban_finds_rejected_client(inst):
    c = Outside(inst.smtp_port)
    c.cmd("HELO outside.example")
    c.cmd("MAIL FROM:<a@example.org>")
    c.cmd("RCPT TO:<f2b@elsewhere.example>")
    c.cmd("QUIT")
    inst.wait_log("to=<f2b@elsewhere.example>")
    r = subprocess.run(["fail2ban-regex", "--print-all-matched", str(inst.log_path),
                        "/etc/fail2ban/filter.d/postfix.conf"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    m = re.search(r"Lines: \d+ lines, \d+ ignored, (\d+) matched", r.stdout)
    assert m and int(m.group(1)) >= 1, r.stdout
    assert "127.0.0.2" in r.stdout


def test_access_map_filter_reaches_the_queue_file(tmp_path):
    """FILTER transport:nexthop from an access map is carried into the queue file, where the
    queue manager honours it (here: the error transport bounces the recipient)."""
    from instance import Instance, wait_for
    inst = Instance("filter", main_cf={
        "smtpd_recipient_restrictions":
            "check_recipient_access inline:{ { trap@localhost = FILTER error:5.7.1 trapped } }, "
            "permit_mynetworks, reject",
        "mydestination": "localhost, $myhostname", "local_recipient_maps": ""})
    try:
        text = (REPO / "conf" / "master.cf").read_text().replace(
            "smtp      inet", f"127.0.0.1:{inst.smtp_port} inet", 1)
        inst.write_master_cf(text)
        inst.start_master()
        import smtplib
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as s:
            s.sendmail(f"{inst.user}@localhost", ["trap@localhost"], "Subject: f\r\n\r\nx\r\n")
        inst.wait_log("status=bounced (trapped)")
        assert re.search(r"to=<trap@localhost>, relay=none, .*dsn=5\.7\.1, "
                         r"status=bounced \(trapped\)", inst.log())
    finally:
        inst.cleanup()
