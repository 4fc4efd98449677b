"""End-to-end tests of smtpd's access control (smtpd/smtpd_check*.c), the DNS lookups it uses
and the anvil service.

- The DNS-dependent unit tests (smtpd_check_dns_test: DNSBL, RHSBL, unknown domains, client
  names, MX/A access, MX backup) run under ../shared/tools/with-test-dns with
  tests/smtpd_access.zone.
- The anvil daemon runs under master and is driven over private/anvil with the attribute
  protocol.
- With the SMTP engine built (bin/smtpd), the seed 000 relay setup and the seed 003
  check_client_access setup run over SMTP with smtplib, from 127.0.0.1 (mynetworks) and from
  other loopback addresses outside it; fail2ban's postfix filter must find the rejected clients.
"""
import os
import pathlib
import shutil
import smtplib
import socket
import subprocess

import pytest

from conftest import BUILD, REPO, bin_path
from instance import Instance, free_port, wait_for

from conftest import WITH_TEST_DNS  # noqa: E402
ZONE = REPO / "tests" / "smtpd_access.zone"
DNS_TEST = BUILD / "tests" / "smtpd" / "smtpd_check_dns_test"
F2B_FILTER = "/etc/fail2ban/filter.d/postfix.conf"


# ---- DNS-based restrictions ----------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="with-test-dns needs root (a mount namespace)")
@pytest.mark.skipif(not os.path.exists(WITH_TEST_DNS) or not shutil.which("dnsmasq"),
                    reason="with-test-dns or dnsmasq missing")
def test_dns_restrictions_under_test_dns():
    if not DNS_TEST.exists():
        pytest.skip(f"{DNS_TEST} is not built (smtpd/ has no main.c yet)")
    env = dict(os.environ, KESTREL_TEST_DNS="1")
    r = subprocess.run([WITH_TEST_DNS, str(ZONE), str(DNS_TEST)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[  PASSED  ] 9 test(s)." in r.stdout + r.stderr, r.stdout + r.stderr


# ---- anvil -----------------------------------------------------------------------------------

def anvil_request(sock_file, request, ident):
    sock_file.write(f"request={request}\nident={ident}\n\n".encode())
    sock_file.flush()
    reply = {}
    while True:
        line = sock_file.readline()
        assert line, "anvil closed the connection"
        line = line.decode().rstrip("\n")
        if not line:
            return reply
        name, _, value = line.partition("=")
        reply[name] = value


@pytest.fixture
def anvil_inst():
    i = Instance("anvil")
    i.main["anvil_status_update_time"] = "1s"
    i.main["anvil_rate_time_unit"] = "60s"
    i.write_main_cf()
    i.write_master_cf("anvil unix - - n - 1 anvil\n")
    yield i
    i.cleanup()


def test_anvil_counts_and_statistics(anvil_inst):
    inst = anvil_inst
    inst.start_master()
    path = inst.spool / "private" / "anvil"
    wait_for(path.exists, what="private/anvil")
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(str(path))
        f = s.makefile("rwb")
        r = anvil_request(f, "connect", "smtp:127.0.0.1")
        assert r == {"status": "0", "count": "1", "rate": "1", "message": "0", "recipient": "0",
                     "newtls": "0", "auth": "0"}
        r = anvil_request(f, "connect", "smtp:127.0.0.1")
        assert (r["count"], r["rate"]) == ("2", "2")
        r = anvil_request(f, "message", "smtp:127.0.0.1")
        assert r["message"] == "1"
        for _ in range(3):
            r = anvil_request(f, "recipient", "smtp:127.0.0.1")
        assert r["recipient"] == "3"
        r = anvil_request(f, "disconnect", "smtp:127.0.0.1")
        assert (r["count"], r["rate"]) == ("1", "2")
        r = anvil_request(f, "lookup", "smtp:192.0.2.1")
        assert r["count"] == "0"
        # A second client connection sees the same counters.
        with socket.socket(socket.AF_UNIX) as s2:
            s2.settimeout(10)
            s2.connect(str(path))
            f2 = s2.makefile("rwb")
            r = anvil_request(f2, "lookup", "smtp:127.0.0.1")
            assert (r["count"], r["rate"], r["recipient"]) == ("1", "2", "3")
        # A bad request closes the connection.
        r = anvil_request(f, "explode", "smtp:127.0.0.1")
        assert r["status"] == "1"
        assert f.readline() == b""
    inst.wait_log("statistics: max connection rate 2/60s for (smtp:127.0.0.1) at ")
    log = inst.log()
    assert "statistics: max connection count 2 for (smtp:127.0.0.1) at " in log
    assert "statistics: max recipient rate 3/60s for (smtp:127.0.0.1) at " in log
    assert "statistics: max message rate 1/60s for (smtp:127.0.0.1) at " in log
    assert "statistics: max cache size 1 at " in log


# ---- SMTP end to end (needs the protocol engine) ---------------------------------------------

needs_smtpd = pytest.mark.skipif(not os.path.exists(bin_path("smtpd")),
                                 reason="the smtpd protocol engine is not built yet")


def smtp_services(port):
    return (f"127.0.0.1:{port} inet n - n - - smtpd\n"
            "pickup unix n - n 60 1 pickup\n"
            "cleanup unix n - n - 0 cleanup\n"
            "qmgr unix n - n 300 1 qmgr\n"
            "anvil unix - - n - 1 anvil\n"
            "local unix - n n - - local\n"
            "bounce unix - - n - 0 bounce\n"
            "defer unix - - n - 0 bounce\n"
            "error unix - - n - - error\n")


def postmap(inst, name, text):
    path = inst.etc / name
    path.write_text(text)
    r = inst.run("postmap", path, as_root=True)
    assert r.returncode == 0, r.stderr
    return path


@pytest.fixture
def smtp_inst():
    i = Instance("smtpdacl")
    yield i
    i.cleanup()


def start(inst, extra):
    port = free_port()
    inst.smtp_port = port
    inst.main.update({
        "myhostname": "mail.example.com",
        "mydomain": "example.com",
        "mydestination": "$myhostname, localhost, $mydomain",
        "mynetworks_style": "host",
        "mynetworks": "127.0.0.1/32",
        "relay_domains": "$mydomain",
        "local_recipient_maps": "inline:{ webmaster=1, postmaster=1, haha=1 }",
    })
    inst.main.update(extra)
    inst.write_main_cf()
    inst.write_master_cf(smtp_services(port))
    inst.start_master()
    wait_for(lambda: _port_open(port), what="smtpd listener")
    return port


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def session(port, source):
    s = smtplib.SMTP("127.0.0.1", port, source_address=(source, 0), timeout=20)
    s.helo("localhost")
    return s


def seed000(inst):
    sender = postmap(inst, "sender_access", "example.com REJECT\n")
    rcpt = postmap(inst, "recipient_access",
                   "postmaster@example.com OK\nwebmaster@example.com OK\n")
    return {
        "smtpd_sender_restrictions":
            f"permit_mynetworks, check_sender_access hash:{sender}, permit",
        # As the seed: the final "reject" refuses every other recipient from outside.
        "smtpd_recipient_restrictions":
            f"permit_mynetworks, check_recipient_access hash:{rcpt}, reject",
    }


@needs_smtpd
def test_seed000_relay_setup(smtp_inst):
    port = start(smtp_inst, seed000(smtp_inst))
    s = session(port, "127.0.0.2")
    assert s.mail("test@gmail.com") == (250, b"2.1.0 Ok")
    assert s.rcpt("webmaster@example.com") == (250, b"2.1.5 Ok")
    code, msg = s.data(b"Subject: hi\r\n\r\nhello!!!!!!\r\n")
    assert code == 250 and msg.startswith(b"2.0.0 Ok: queued as "), msg
    assert s.mail("test@gmail.com") == (250, b"2.1.0 Ok")
    assert s.rcpt("haha@example.com") == (
        554, b"5.7.1 <haha@example.com>: Recipient address rejected: Access denied")
    # The default smtpd_relay_restrictions end in defer_unauth_destination.
    assert s.rcpt("someone@far.example") == (454, b"4.7.1 <someone@far.example>: Relay access denied")
    s.rset()
    assert s.mail("forged@example.com") == (250, b"2.1.0 Ok")
    assert s.rcpt("webmaster@example.com") == (
        554, b"5.7.1 <forged@example.com>: Sender address rejected: Access denied")
    s.quit()
    # From mynetworks: relaying and the local sender are allowed.
    s = session(port, "127.0.0.1")
    assert s.mail("me@example.com") == (250, b"2.1.0 Ok")
    assert s.rcpt("someone@far.example") == (250, b"2.1.5 Ok")
    s.quit()


OPEN_RELAY_FORMS = [
    "user@far.example",
    "user%far.example@example.com",
    '"user@far.example"@example.com',
    "far.example!user@example.com",
    "@example.com:user@far.example",
    "user@far.example@example.com",
    "user@far.example.",
    "user%far.example@example.com.",
]


@needs_smtpd
def test_open_relay_forms_refused_from_outside(smtp_inst):
    port = start(smtp_inst, seed000(smtp_inst))
    s = session(port, "127.0.0.2")
    for form in OPEN_RELAY_FORMS:
        assert s.mail("test@gmail.com")[0] == 250
        code, msg = s.rcpt(form)
        assert code in (454, 501, 550, 553, 554), (form, code, msg)
        assert code != 250, form
        s.rset()
    s.quit()


@needs_smtpd
def test_seed003_client_access_ip_and_prefix(smtp_inst):
    access = postmap(smtp_inst, "access", "127.0.0.3 REJECT\n127.0.1 REJECT\n")
    extra = seed000(smtp_inst)
    extra["smtpd_client_restrictions"] = f"check_client_access hash:{access}"
    port = start(smtp_inst, extra)
    for source in ("127.0.0.3", "127.0.1.5"):
        s = session(port, source)
        assert s.mail("test@gmail.com")[0] == 250
        assert s.rcpt("webmaster@example.com") == (
            554, f"5.7.1 <unknown[{source}]>: Client host rejected: Access denied".encode())
        s.quit()
    s = session(port, "127.0.0.2")
    assert s.mail("test@gmail.com")[0] == 250
    assert s.rcpt("webmaster@example.com") == (250, b"2.1.5 Ok")
    s.quit()
    smtp_inst.wait_log("NOQUEUE: reject: RCPT from unknown[127.0.1.5]: 554 5.7.1 "
                       "<unknown[127.0.1.5]>: Client host rejected: Access denied; "
                       "from=<test@gmail.com> to=<webmaster@example.com> proto=SMTP "
                       "helo=<localhost>")
    if shutil.which("fail2ban-regex") and os.path.exists(F2B_FILTER):
        r = subprocess.run(["fail2ban-regex", "--print-all-matched", str(smtp_inst.log_path),
                            F2B_FILTER], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        for source in ("127.0.0.3", "127.0.1.5"):
            assert f"[{source}]" in r.stdout, r.stdout
