"""smtpd with TLS under a sandbox master (smtpd + cleanup, accepted mail stays in incoming/):
a test CA, server and client certificates made here with the openssl command; STARTTLS with
`openssl s_client -starttls smtp`, Python's ssl module and `swaks --tls`; wrapper mode (the
seed's smtps service) with `swaks --tlsc` on a second port; the STARTTLS injection test; state
reset; encrypt level; local TLS problems; handshake failures; client certificates for
check_ccert_access; the Received header."""
import os
import re
import shutil
import socket
import ssl
import subprocess

import pytest

from instance import Instance, free_port, wait_for
from test_smtpd_protocol import Raw, content_lines, incoming, queued_id, records, wait_file

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
"""
SMTPS_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
"""
TLS13 = "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
KEX = "key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"


def ossl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d):
    """A test CA, a server certificate for mail.example.test and a client certificate."""
    d.mkdir()
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
         "-days", "2", "-subj", "/CN=Kestrel Test CA", cwd=d)
    for name, cn, ext in (("server", "mail.example.test", "subjectAltName=DNS:mail.example.test"),
                          ("client", "client.example.test", "basicConstraints=CA:FALSE")):
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
             f"{name}.csr", "-subj", f"/CN={cn}", cwd=d)
        (d / f"{name}.ext").write_text(ext + "\n")
        ossl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt",
             cwd=d)
    return d


def fingerprint(cert):
    out = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint",
                          "-sha256"], capture_output=True, text=True, check=True).stdout
    return out.strip().split("=", 1)[1]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("tls") / "pki")


def tls_instance(pki, extra=None, smtps=False, name="smtpdtls", start=True, anvil=False):
    main = {"mydomain": "example.test", "myorigin": "example.test",
            "mynetworks": "127.0.0.0/8", "smtpd_error_sleep_time": "0",
            "local_recipient_maps": "", "smtpd_tls_security_level": "may",
            "smtpd_tls_loglevel": "1"}
    inst = Instance(name, main_cf=main)
    d = inst.root / "pki"
    shutil.copytree(pki, d)
    inst.main.update({"smtpd_tls_cert_file": str(d / "server.crt"),
                      "smtpd_tls_key_file": str(d / "server.key"),
                      "smtpd_tls_CAfile": str(d / "ca.pem")})
    inst.main.update(extra or {})
    inst.write_main_cf()
    cf = MASTER_CF.format(port=inst.smtp_port)
    if anvil:
        cf += "anvil unix - - n - 1 anvil\n"
    if smtps:
        inst.smtps_port = free_port()
        cf += SMTPS_CF.format(port=inst.smtps_port)
    inst.write_master_cf(cf)
    inst._chown_tree()
    if start:
        inst.start_master()
    return inst


@pytest.fixture
def inst(pki):
    i = tls_instance(pki)
    yield i
    i.cleanup()


def client_context(pki, cert=False):
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if cert:
        ctx.load_cert_chain(str(pki / "client.crt"), str(pki / "client.key"))
    return ctx


class TlsRaw(Raw):
    """Raw with STARTTLS."""

    def starttls(self, ctx):
        assert self.buf == b""
        self.s = ctx.wrap_socket(self.s, server_hostname="mail.example.test")


def disconnect_line(inst, port=None):
    wait_for(lambda: "disconnect from" in inst.log(), 10, what="disconnect")
    return [l for l in inst.log().splitlines() if "disconnect from" in l][-1]


# ---- STARTTLS ----------------------------------------------------------------------------------

def test_ehlo_advertises_starttls_then_not(inst, pki):
    c = TlsRaw(inst.smtp_port)
    ehlo = c.cmd("EHLO client.example")
    assert ehlo == ["250-mail.example.test", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY",
                    "250-ETRN", "250-STARTTLS", "250-ENHANCEDSTATUSCODES", "250-8BITMIME",
                    "250-DSN", "250-SMTPUTF8", "250 CHUNKING"]
    assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
    c.starttls(client_context(pki))
    ehlo = c.cmd("EHLO client.example")
    assert "250-STARTTLS" not in ehlo and ehlo[0] == "250-mail.example.test"
    assert c.cmd("STARTTLS") == "554 5.5.1 Error: TLS already active"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    line = disconnect_line(inst)
    assert line.endswith("ehlo=2 starttls=1/2 quit=1 commands=4/5"), line
    assert re.search(r"smtpd\[\d+\]: Anonymous TLS connection established from "
                     r"\S+\[127\.0\.0\.1\]: " + re.escape(f"{TLS13} {KEX}") + "$",
                     inst.log(), re.M), inst.log()


def test_openssl_s_client_starttls(inst, pki):
    """The seed 002 check: openssl s_client -starttls smtp, then EHLO inside TLS."""
    p = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{inst.smtp_port}",
                          "-starttls", "smtp", "-CAfile", str(pki / "ca.pem"),
                          "-verify_return_error", "-servername", "mail.example.test", "-crlf",
                          "-ign_eof", "-quiet"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        p.stdin.write("EHLO me.com\n")
        p.stdin.flush()
        lines = []
        while not lines or not lines[-1].startswith("250 "):
            lines.append(p.stdout.readline().rstrip("\n"))
        p.stdin.write("QUIT\n")
        p.stdin.flush()
        rest = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert lines == ["250-mail.example.test", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY",
                     "250-ETRN", "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN",
                     "250-SMTPUTF8", "250 CHUNKING"]
    assert rest[0].strip() == "221 2.0.0 Bye"
    assert "verify return:1" in rest[1] or "depth=0 CN = mail.example.test" in rest[1], rest


def test_state_reset_after_starttls(inst, pki):
    c = TlsRaw(inst.smtp_port)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 Ok"
    assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
    c.starttls(client_context(pki))
    # The MAIL before the handshake is forgotten: a RCPT needs a new MAIL.
    assert c.cmd("RCPT TO:<b@example.test>") == "503 5.5.1 Error: need MAIL command"
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<b@example.test>") == "250 2.1.5 Ok"
    c.cmd("QUIT")


def test_starttls_injection_discarded(inst, pki):
    """CVE-2011-0411 class: plaintext pipelined after STARTTLS is never executed."""
    c = TlsRaw(inst.smtp_port)
    c.cmd("EHLO client.example")
    c.send("STARTTLS\r\nRSET\r\n")
    assert c.reply() == ["220 2.0.0 Ready to start TLS"]
    c.starttls(client_context(pki))
    # The first reply over TLS answers our EHLO, not the injected RSET.
    assert c.cmd("EHLO client.example")[0] == "250-mail.example.test"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    line = disconnect_line(inst)
    assert line.endswith("ehlo=2 starttls=1 quit=1 commands=4"), line


def test_starttls_with_arguments_and_before_ehlo(inst, pki):
    c = TlsRaw(inst.smtp_port)
    assert c.cmd("STARTTLS now") == "501 5.5.4 Syntax: STARTTLS"
    assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
    c.starttls(client_context(pki))
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.cmd("QUIT")


def test_handshake_failure_logged_and_session_ended(inst):
    c = TlsRaw(inst.smtp_port)
    c.cmd("EHLO client.example")
    assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
    c.send("EHLO not-tls\r\n" * 4)
    assert c.closed()
    inst.wait_log("lost connection after STARTTLS from")
    assert re.search(r"SSL_accept error from \S+\[127\.0\.0\.1\]: ", inst.log())
    assert "250" not in c.buf.decode(errors="replace")


def test_encrypt_level_requires_starttls(pki):
    inst = tls_instance(pki, {"smtpd_tls_security_level": "encrypt"})
    try:
        c = TlsRaw(inst.smtp_port)
        assert "250-STARTTLS" in c.cmd("EHLO client.example")
        assert c.cmd("MAIL FROM:<a@example.org>") == \
            "530 5.7.0 Must issue a STARTTLS command first"
        assert c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == \
            "530 5.7.0 Must issue a STARTTLS command first"
        assert c.cmd("NOOP") == "250 2.0.0 Ok"
        assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
        c.starttls(client_context(pki))
        c.cmd("EHLO client.example")
        assert c.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 Ok"
        c.cmd("QUIT")
    finally:
        inst.cleanup()


def test_legacy_enforce_tls(pki):
    inst = tls_instance(pki, {"smtpd_tls_security_level": "", "smtpd_enforce_tls": "yes"})
    try:
        c = TlsRaw(inst.smtp_port)
        assert "250-STARTTLS" in c.cmd("EHLO client.example")
        assert c.cmd("MAIL FROM:<a@example.org>") == \
            "530 5.7.0 Must issue a STARTTLS command first"
        c.cmd("QUIT")
    finally:
        inst.cleanup()


def test_level_none_no_starttls(pki):
    inst = tls_instance(pki, {"smtpd_tls_security_level": "none"})
    try:
        c = TlsRaw(inst.smtp_port)
        assert "250-STARTTLS" not in c.cmd("EHLO client.example")
        assert c.cmd("STARTTLS") == "502 5.5.1 Error: command not implemented"
        c.cmd("QUIT")
    finally:
        inst.cleanup()


def test_local_problem_gives_454(pki):
    inst = tls_instance(pki, {"smtpd_tls_cert_file": "/nonexistent/cert.pem",
                              "smtpd_tls_key_file": "/nonexistent/key.pem"})
    try:
        c = TlsRaw(inst.smtp_port)
        assert "250-STARTTLS" in c.cmd("EHLO client.example")
        assert c.cmd("STARTTLS") == "454 4.7.0 TLS not available due to local problem"
        assert c.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 Ok"
        c.cmd("QUIT")
        assert "cannot initialize the server-side TLS engine" in inst.log()
    finally:
        inst.cleanup()


# ---- wrapper mode and swaks --------------------------------------------------------------------

def test_swaks_tls_and_wrappermode(pki):
    inst = tls_instance(pki, smtps=True)
    try:
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(inst.smtp_port),
                            "--tls", "--from", "x@example.org", "--to", "y@example.test",
                            "--body", "over starttls"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "<~  220 2.0.0 Ready to start TLS" in r.stdout or \
            "<-  220 2.0.0 Ready to start TLS" in r.stdout, r.stdout
        assert re.search(r"<~  250 2\.0\.0 Ok: queued as \w+", r.stdout), r.stdout
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(inst.smtps_port),
                            "--tlsc", "--from", "x@example.org", "--to", "y@example.test",
                            "--body", "over smtps"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        assert re.search(r"<~  220 mail\.example\.test ESMTP", r.stdout), r.stdout
        assert re.search(r"<~  250 2\.0\.0 Ok: queued as \w+", r.stdout), r.stdout
        # STARTTLS is not offered inside wrapper mode.
        assert "STARTTLS" not in r.stdout.split("EHLO", 1)[1]
        wait_for(lambda: len(incoming(inst)) == 2, 5)
        protos = sorted(next(v for t, v in records(p) if v.startswith("client_protocol="))
                        for p in incoming(inst))
        assert protos == ["client_protocol=ESMTPS", "client_protocol=ESMTPS"]
    finally:
        inst.cleanup()


def test_wrappermode_plaintext_client_dropped(pki):
    inst = tls_instance(pki, smtps=True)
    try:
        c = socket.create_connection(("127.0.0.1", inst.smtps_port), timeout=10)
        c.sendall(b"EHLO plain\r\n")
        c.settimeout(10)
        data = b""
        try:
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        assert b"220" not in data
        inst.wait_log("lost connection after CONNECT from")
        assert re.search(r"SSL_accept error from \S+\[127\.0\.0\.1\]", inst.log())
    finally:
        inst.cleanup()


# ---- Received header and client certificates ---------------------------------------------------

def send_over_tls(inst, pki, cert=False, rcpt="r@example.test"):
    c = TlsRaw(inst.smtp_port)
    c.cmd("EHLO client.example")
    assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
    c.starttls(client_context(pki, cert))
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<s@example.org>") == "250 2.1.0 Ok"
    r = c.cmd(f"RCPT TO:<{rcpt}>")
    if r != "250 2.1.5 Ok":
        c.cmd("QUIT")
        return r
    assert c.cmd("DATA").startswith("354")
    r = c.cmd("Subject: t\r\n\r\nbody\r\n.")
    c.cmd("QUIT")
    return r


def test_received_header_with_tls(pki):
    inst = tls_instance(pki, {"smtpd_tls_received_header": "yes"})
    try:
        qid = queued_id(send_over_tls(inst, pki))
        lines = content_lines(wait_file(inst, qid))
        assert lines[0] == "Received: from client.example (localhost [127.0.0.1])" or \
            re.fullmatch(r"Received: from client\.example \(\S+ \[127\.0\.0\.1\]\)", lines[0])
        assert lines[1] == f"\t(using {TLS13}"
        assert lines[2] == f"\t {KEX})"
        assert lines[3] == "\t(No client certificate requested)"
        assert lines[4] == f"\tby mail.example.test (Postfix) with ESMTPS id {qid}" or \
            re.fullmatch(rf"\tby mail\.example\.test \(\w+\) with ESMTPS id {qid}", lines[4])
        assert lines[5].startswith("\tfor <r@example.test>; ")
    finally:
        inst.cleanup()


def test_received_header_off_by_default(inst, pki):
    qid = queued_id(send_over_tls(inst, pki))
    lines = content_lines(wait_file(inst, qid))
    assert re.fullmatch(rf"\tby mail\.example\.test \(\w+\) with ESMTPS id {qid}", lines[1])


def test_client_certificate_check_ccert_access(pki):
    fp = fingerprint(pki / "client.crt")
    inst = tls_instance(pki, {
        "smtpd_tls_ask_ccert": "yes", "smtpd_tls_received_header": "yes",
        "mynetworks": "192.0.2.0/24",
        "smtpd_relay_restrictions":
            f"check_ccert_access inline:{{ {fp}=OK }}, reject_unauth_destination"})
    try:
        assert send_over_tls(inst, pki, cert=False, rcpt="x@elsewhere.example") == \
            "554 5.7.1 <x@elsewhere.example>: Relay access denied"
        qid = queued_id(send_over_tls(inst, pki, cert=True, rcpt="x@elsewhere.example"))
        lines = content_lines(wait_file(inst, qid))
        assert lines[3] == ('\t(Client CN "client.example.test", Issuer "Kestrel Test CA" '
                            '(verified OK))'), lines
        assert re.search(r"Trusted TLS connection established from \S+\[127\.0\.0\.1\]: ",
                         inst.log())
    finally:
        inst.cleanup()


def test_session_resumption_with_cache(pki):
    """The seed 001 setting: smtpd_tls_session_cache_database = btree:...; the QUIT ends TLS
    with close_notify so the session can be resumed by the next connection."""
    inst = tls_instance(pki, {"smtpd_tls_session_cache_database":
                              "btree:${data_directory}/smtpd_scache"})
    try:
        sess = inst.root / "sess.pem"

        def s_client(*extra):
            return subprocess.run(
                ["openssl", "s_client", "-connect", f"127.0.0.1:{inst.smtp_port}", "-starttls",
                 "smtp", "-crlf", "-ign_eof", "-tls1_2", *extra],
                input="QUIT\n", capture_output=True, text=True, timeout=30)
        first = s_client("-sess_out", str(sess))
        assert "221 2.0.0 Bye" in first.stdout and "New, TLSv1.2" in first.stdout
        second = s_client("-sess_in", str(sess))
        assert "Reused, TLSv1.2" in second.stdout, second.stdout
    finally:
        inst.cleanup()


def test_new_tls_session_rate_limit(pki):
    inst = tls_instance(pki, {"smtpd_client_new_tls_session_rate_limit": "1",
                              "smtpd_client_event_limit_exceptions": ""}, anvil=True)
    try:
        c = TlsRaw(inst.smtp_port)
        c.cmd("EHLO client.example")
        assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
        c.starttls(client_context(pki))
        c.cmd("QUIT")
        c = TlsRaw(inst.smtp_port)
        c.cmd("EHLO client.example")
        assert c.cmd("STARTTLS") == "454 4.7.0 Error: too many new TLS sessions from 127.0.0.1"
        c.cmd("QUIT")
        assert re.search(r"warning: New TLS session rate limit exceeded: 1 from "
                         r"\S+\[127\.0\.0\.1\] for service ", inst.log()), inst.log()
    finally:
        inst.cleanup()
