"""End-to-end tests of XFORWARD (Postfix's XFORWARD_README): an smtpd service that trusts
127.0.0.0/8 (smtpd_authorized_xforward_hosts) announces it, accepts forwarded attributes and
logs them with the next transaction (orig_queue_id=, orig_client=); other services refuse it;
and the smtp client with smtp_send_xforward_command=yes forwards the original client and queue
ID through a content_filter to that re-injection service."""
import re
import smtplib

import pytest

from conftest import REPO
from instance import Instance, free_port, wait_for


@pytest.fixture
def inst():
    port2 = free_port()
    i = Instance("xforward", main_cf={"mydestination": "localhost, $myhostname",
                                      "local_recipient_maps": ""})
    text = (REPO / "conf" / "master.cf").read_text().replace(
        "smtp      inet", f"127.0.0.1:{i.smtp_port} inet", 1)
    text += (f"127.0.0.1:{port2} inet n - n - - smtpd\n"
             "  -o content_filter=\n"
             "  -o smtpd_authorized_xforward_hosts=127.0.0.0/8\n"
             "  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks\n"
             "filter-out unix - - n - - smtp\n"
             "  -o smtp_send_xforward_command=yes\n")
    i.write_master_cf(text)
    i.port2 = port2
    yield i
    print(i.log()[-4000:])
    i.cleanup()


def mbox(inst):
    path = inst.mail / inst.user
    return path.read_text() if path.exists() else ""


def test_server_accepts_logs_and_forgets(inst):
    inst.start_master()
    with smtplib.SMTP("127.0.0.1", inst.port2, timeout=20) as s:
        code, text = s.ehlo("filter.example")
        assert "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT" in text.decode()
        assert s.docmd("XFORWARD", "NAME=mail.example.org ADDR=192.0.2.5 PORT=4711") == \
            (250, b"2.0.0 Ok")
        assert s.docmd("XFORWARD", "PROTO=ESMTP HELO=mail.example.org IDENT=4AB3C2D1E0 "
                       "SOURCE=REMOTE") == (250, b"2.0.0 Ok")
        assert s.docmd("XFORWARD", "NAME=bad..name") == (501, b"5.5.4 Bad NAME syntax: bad..name")
        assert s.docmd("XFORWARD", "COLOR=blue")[0] == 501
        assert s.docmd("XFORWARD")[0] == 501
        s.sendmail("a@example.org", [f"{inst.user}@localhost"], "Subject: one\r\n\r\nx\r\n")
        s.sendmail("a@example.org", [f"{inst.user}@localhost"], "Subject: two\r\n\r\nx\r\n")
        s.mail("a@example.org")
        assert s.docmd("XFORWARD", "NAME=x.example")[0] == 503  # inside a transaction
    wait_for(lambda: mbox(inst).count("Subject: ") == 2, 20, what="both delivered")
    clients = re.findall(r"\w+: client=localhost\[127\.0\.0\.1\](.*)", inst.log())
    assert clients[0] == ", orig_queue_id=4AB3C2D1E0, orig_client=mail.example.org[192.0.2.5]"
    assert clients[1] == ""  # forgotten after the first transaction
    assert re.search(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 xforward=2/6 mail=3 "
                     r"rcpt=2 data=2 quit=1 commands=11/15", inst.log()), inst.log()


def test_unauthorized_client_is_refused(inst):
    inst.start_master()
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        assert "XFORWARD" not in s.ehlo("x")[1].decode()
        assert s.docmd("XFORWARD", "NAME=mail.example.org") == \
            (550, b"5.7.0 Error: insufficient authorization")


def test_client_forwards_through_a_content_filter(inst):
    # The public service hands everything to filter-out, whose "filter" is the re-injection
    # smtpd itself: it must log the original client and queue ID.
    inst.main["content_filter"] = f"filter-out:[127.0.0.1]:{inst.port2}"
    inst.write_main_cf()
    inst.start_master()
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=20) as s:
        s.ehlo("client.example")
        s.sendmail("a@example.org", [f"{inst.user}@localhost"], "Subject: via filter\r\n\r\nx\r\n")
    wait_for(lambda: "Subject: via filter" in mbox(inst), 20, what="delivery through the filter")
    first = re.search(r"(\w+): client=localhost\[127\.0\.0\.1\]\n", inst.log() + "\n")
    assert first, inst.log()
    assert re.search(rf"\w+: client=localhost\[127\.0\.0\.1\], orig_queue_id={first.group(1)}, "
                     r"orig_client=localhost\[127\.0\.0\.1\]", inst.log()), inst.log()
