"""smtpd AUTH under a sandbox master against real authentication servers: Dovecot (Debian
dovecot-core) on a unix socket reached as smtpd_sasl_path = private/auth inside the instance's
queue directory, and Cyrus SASL through a real saslauthd (as tests/test_sasl_lib.py runs them;
its fixtures are reused). The seed 002 AUTH LOGIN dialogue after STARTTLS and the seed 003
dialogue with broken_sasl_auth_clients are reproduced exactly; smtpd_tls_auth_only, relay
permitted only after AUTH, refusals, failures counted toward the hard error limit, the client=
log fields, protocol ESMTPA/ESMTPSA and smtpd_sasl_authenticated_header."""
import os
import pathlib
import re
import shutil
import tempfile

import pytest

from instance import TEST_ROOT, wait_for
from test_sasl_lib import dovecot, need_dovecot, need_saslauthd, saslauthd  # noqa: F401
from test_smtpd_protocol import content_lines, queued_id, wait_file
from test_smtpd_tls import TlsRaw, client_context, make_pki, tls_instance

pytestmark = [need_dovecot, pytest.mark.skipif(shutil.which("openssl") is None,
                                               reason="needs openssl")]

SEED_RESTRICTIONS = "permit_sasl_authenticated,permit_mynetworks,reject_unauth_destination"


@pytest.fixture
def tmp_path():
    """Overrides pytest's tmp_path (used by the saslauthd fixture) with a directory the
    unprivileged smtpd can reach (pytest's has 0700 parents)."""
    TEST_ROOT.mkdir(mode=0o755, exist_ok=True)
    d = pathlib.Path(tempfile.mkdtemp(prefix="sasl-", dir=TEST_ROOT))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("sasl") / "pki")


def add_user(dovecot, user, password):
    passwd = pathlib.Path(dovecot["auth"]).parent / "passwd"
    passwd.write_text(passwd.read_text() + f"{user}:{{PLAIN}}{password}\n")


def dovecot_instance(pki, dovecot, extra=None, anvil=False):
    """TLS may, AUTH through Dovecot at private/auth (a link to the test Dovecot's socket)."""
    main = {"smtpd_sasl_type": "dovecot", "smtpd_sasl_path": "private/auth",
            "smtpd_sasl_auth_enable": "yes", "mynetworks": "192.0.2.0/24",
            "smtpd_relay_restrictions": "", "smtpd_recipient_restrictions": SEED_RESTRICTIONS}
    main.update(extra or {})
    inst = tls_instance(pki, main, name="smtpdsasl", start=False, anvil=anvil)
    private = inst.spool / "private"
    private.mkdir(exist_ok=True)
    os.symlink(dovecot["auth"], private / "auth")
    inst._chown_tree()
    inst.start_master()
    return inst


@pytest.fixture
def dinst(pki, dovecot):
    add_user(dovecot, "jsmith", "secret")
    i = dovecot_instance(pki, dovecot, {"smtpd_tls_auth_only": "yes"})
    yield i
    i.cleanup()


def client_line(inst):
    wait_for(lambda: ": client=" in inst.log(), 10, what="client= line")
    return [l for l in inst.log().splitlines() if ": client=" in l][-1]


def starttls(c, pki):
    assert c.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
    c.starttls(client_context(pki))


# ---- the seed dialogues ------------------------------------------------------------------------

def test_seed002_auth_login_after_starttls(dinst, pki):
    c = TlsRaw(dinst.smtp_port)
    before = c.cmd("EHLO me.com")
    assert not any("AUTH" in l for l in before)  # smtpd_tls_auth_only
    assert c.cmd("AUTH LOGIN") == "503 5.5.1 Error: authentication not enabled"
    starttls(c, pki)
    assert c.cmd("EHLO me.com") == [
        "250-mail.example.test", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY", "250-ETRN",
        "250-AUTH PLAIN LOGIN", "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN",
        "250-SMTPUTF8", "250 CHUNKING"]
    assert c.cmd("AUTH LOGIN") == "334 VXNlcm5hbWU6"
    assert c.cmd("anNtaXRo") == "334 UGFzc3dvcmQ6"
    assert c.cmd("c2VjcmV0") == "235 2.7.0 Authentication successful"
    assert c.cmd("MAIL FROM: me@here.com") == "250 2.1.0 Ok"
    assert c.cmd("rcpt to: jsmith@example.com") == "250 2.1.5 Ok"
    assert c.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    qid = queued_id(c.cmd("Subject: hello you\r\nYou're ace\r\n."))
    c.cmd("QUIT")
    assert client_line(dinst).endswith(
        f"{qid}: client=localhost[127.0.0.1], sasl_method=LOGIN, sasl_username=jsmith") or \
        re.search(rf"{qid}: client=\S+\[127\.0\.0\.1\], sasl_method=LOGIN, "
                  r"sasl_username=jsmith$", client_line(dinst))
    lines = content_lines(wait_file(dinst, qid))
    assert re.fullmatch(rf"\tby mail\.example\.test \(\w+\) with ESMTPSA id {qid}", lines[1])


def test_relay_only_after_auth(dinst, pki):
    c = TlsRaw(dinst.smtp_port)
    c.cmd("EHLO me.com")
    starttls(c, pki)
    c.cmd("EHLO me.com")
    c.cmd("MAIL FROM:<me@here.com>")
    assert c.cmd("RCPT TO:<jsmith@example.com>") == \
        "554 5.7.1 <jsmith@example.com>: Relay access denied"
    c.cmd("RSET")
    assert c.cmd("AUTH PLAIN AGpzbWl0aABzZWNyZXQ=") == "235 2.7.0 Authentication successful"
    c.cmd("MAIL FROM:<me@here.com>")
    assert c.cmd("RCPT TO:<jsmith@example.com>") == "250 2.1.5 Ok"
    c.cmd("QUIT")


def test_seed003_cyrus_saslauthd_broken_clients(pki, dovecot, saslauthd, tmp_path):
    add_user(dovecot, "hadoop", "hadoop")
    conf = tmp_path / "sasl2"
    conf.mkdir()
    (conf / "smtpd.conf").write_text(f"pwcheck_method: saslauthd\nsaslauthd_path: "
                                     f"{saslauthd['mux']}\nmech_list: PLAIN LOGIN\n")
    inst = tls_instance(pki, {
        "broken_sasl_auth_clients": "yes", "smtpd_recipient_restrictions":
            "permit_mynetworks,permit_sasl_authenticated,reject_unauth_destination",
        "smtpd_sasl_auth_enable": "yes", "smtpd_sasl_local_domain": "$myhostname",
        "smtpd_sasl_security_options": "noanonymous", "smtpd_sasl_path": "smtpd",
        "smtpd_sasl_type": "cyrus", "cyrus_sasl_config_path": str(conf),
        "smtpd_tls_security_level": "none", "mynetworks": "192.0.2.0/24",
        "smtpd_banner": "Welcome to our $myhostname ESMTP,Warning: Version not Available!"},
        name="smtpdcyrus")
    try:
        c = TlsRaw(inst.smtp_port)
        assert c.greeting == [
            "220 Welcome to our mail.example.test ESMTP,Warning: Version not Available!"]
        ehlo = c.cmd("ehlo 192.168.88.135")
        auth = [l for l in ehlo if "AUTH" in l]
        assert len(auth) == 2 and auth[0] in ("250-AUTH PLAIN LOGIN", "250-AUTH LOGIN PLAIN")
        assert auth[1] == "250-AUTH=" + auth[0][len("250-AUTH "):]
        assert ehlo.index(auth[0]) == 5 and ehlo.index(auth[1]) == 6
        assert c.cmd("auth login") == "334 VXNlcm5hbWU6"
        assert c.cmd("aGFkb29w") == "334 UGFzc3dvcmQ6"
        assert c.cmd("aGFkb29w") == "235 2.7.0 Authentication successful"
        c.cmd("MAIL FROM:<hadoop@example.test>")
        assert c.cmd("RCPT TO:<x@elsewhere.example>") == "250 2.1.5 Ok"
        c.cmd("QUIT")
        c = TlsRaw(inst.smtp_port)
        c.cmd("EHLO x")
        assert c.cmd("AUTH PLAIN AGhhZG9vcAB3cm9uZw==") == \
            "535 5.7.8 Error: authentication failed: authentication failure"
        c.cmd("QUIT")
        inst.wait_log("SASL PLAIN authentication failed: authentication failure")
    finally:
        inst.cleanup()


# ---- refusals, failures, limits ----------------------------------------------------------------

def test_refusals_and_abort(pki, dovecot):
    inst = dovecot_instance(pki, dovecot)
    try:
        c = TlsRaw(inst.smtp_port)
        ehlo = c.cmd("EHLO me.com")
        assert "250-AUTH PLAIN LOGIN" in ehlo and "250-STARTTLS" in ehlo
        assert c.cmd("AUTH") == "501 5.5.4 Syntax: AUTH mechanism"
        assert c.cmd("AUTH LOGIN") == "334 VXNlcm5hbWU6"
        assert c.cmd("*") == "501 5.7.0 Authentication aborted"
        assert c.cmd("AUTH LOGIN") == "334 VXNlcm5hbWU6"
        assert c.cmd("not base64!") == \
            "535 5.7.8 Error: authentication failed: Invalid base64 data in continued response"
        assert c.cmd("AUTH LOGIN") == "334 VXNlcm5hbWU6"
        assert c.cmd("A" * 13000) == "500 5.5.6 Authentication exchange line is too long"
        assert c.cmd("AUTH LOGIN") == "334 VXNlcm5hbWU6"
        assert c.cmd("YWxpY2U=") == "334 UGFzc3dvcmQ6"
        assert c.cmd("d3Jvbmc=") == "535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6"
        assert c.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 Ok"
        assert c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == \
            "503 5.5.1 Error: MAIL transaction in progress"
        c.cmd("RSET")
        assert c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == "235 2.7.0 Authentication successful"
        assert c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == "503 5.5.1 Error: already authenticated"
        c.cmd("QUIT")
        inst.wait_log("SASL LOGIN authentication failed: UGFzc3dvcmQ6")
        inst.wait_log("auth=1/8")  # the disconnect line comes after the QUIT reply
        assert re.search(r"warning: \S+\[127\.0\.0\.1\]: SASL LOGIN authentication aborted",
                         inst.log())
        assert re.search(r"auth=1/8 .*commands=\d+/\d+$",
                         [l for l in inst.log().splitlines() if "disconnect from" in l][-1])
    finally:
        inst.cleanup()


def test_auth_not_enabled(pki):
    inst = tls_instance(pki, name="smtpdnoauth")
    try:
        c = TlsRaw(inst.smtp_port)
        assert not any("AUTH" in l for l in c.cmd("EHLO me.com"))
        assert c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == \
            "503 5.5.1 Error: authentication not enabled"
        c.cmd("QUIT")
    finally:
        inst.cleanup()


def test_failed_auth_counts_toward_hard_error_limit(pki, dovecot):
    inst = dovecot_instance(pki, dovecot, {"smtpd_hard_error_limit": "3"})
    try:
        c = TlsRaw(inst.smtp_port)
        c.cmd("EHLO me.com")
        for _ in range(3):
            assert c.cmd("AUTH PLAIN AGFsaWNlAHdyb25n").startswith(
                "535 5.7.8 Error: authentication failed:")
        assert c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == \
            "421 4.7.0 mail.example.test Error: too many errors"
        assert c.closed()
        inst.wait_log("too many errors after AUTH from")
    finally:
        inst.cleanup()


def test_backend_down_is_temporary(pki, tmp_path):
    inst = tls_instance(pki, {"smtpd_sasl_type": "dovecot", "smtpd_sasl_auth_enable": "yes",
                              "smtpd_sasl_path": str(tmp_path / "no-such-socket")},
                        name="smtpdsasldown")
    try:
        c = TlsRaw(inst.smtp_port)
        c.cmd("EHLO me.com")
        r = c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")
        assert r == ("454 4.7.0 Temporary authentication failure: "
                     "Connection lost to authentication server"), r
        c.cmd("QUIT")
    finally:
        inst.cleanup()


# ---- what AUTH gives the rest of smtpd ---------------------------------------------------------

def test_auth_param_sender_login_and_headers(pki, dovecot):
    inst = dovecot_instance(pki, dovecot, {
        "smtpd_sasl_authenticated_header": "yes", "smtpd_tls_received_header": "yes",
        "smtpd_sender_login_maps": "inline:{ alice@example.test=alice, bob@example.test=bob }",
        "smtpd_sender_restrictions": "reject_sender_login_mismatch"})
    try:
        c = TlsRaw(inst.smtp_port)
        c.cmd("EHLO me.com")
        assert c.cmd("MAIL FROM:<alice@example.test>") == "250 2.1.0 Ok"
        assert c.cmd("RCPT TO:<r@example.test>") == \
            "553 5.7.1 <alice@example.test>: Sender address rejected: not logged in"
        c.cmd("RSET")
        assert c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == "235 2.7.0 Authentication successful"
        assert c.cmd("MAIL FROM:<bob@example.test>") == "250 2.1.0 Ok"
        assert c.cmd("RCPT TO:<r@example.test>") == \
            "553 5.7.1 <bob@example.test>: Sender address rejected: not owned by user alice"
        c.cmd("RSET")
        assert c.cmd("MAIL FROM:<alice@example.test> AUTH=<>") == "250 2.1.0 Ok"
        assert c.cmd("RCPT TO:<r@example.test>") == "250 2.1.5 Ok"
        c.cmd("DATA")
        qid = queued_id(c.cmd("Subject: t\r\n\r\nbody\r\n."))
        assert c.cmd("MAIL FROM:<alice@example.test> AUTH=alice+40example.test") == \
            "250 2.1.0 Ok"
        assert c.cmd("RCPT TO:<r@example.test>") == "250 2.1.5 Ok"
        c.cmd("DATA")
        qid2 = queued_id(c.cmd("Subject: t\r\n\r\nbody\r\n."))
        c.cmd("QUIT")
        lines = content_lines(wait_file(inst, qid))
        assert lines[1] == "\t(Authenticated sender: alice)", lines
        assert re.fullmatch(rf"\tby mail\.example\.test \(\w+\) with ESMTPA id {qid}", lines[2])
        log = inst.log()
        assert re.search(rf"{qid}: client=\S+\[127\.0\.0\.1\], sasl_method=PLAIN, "
                         r"sasl_username=alice$", log, re.M)
        assert re.search(rf"{qid2}: client=\S+\[127\.0\.0\.1\], sasl_method=PLAIN, "
                         r"sasl_username=alice, sasl_sender=alice@example\.test$", log, re.M)
    finally:
        inst.cleanup()


def test_auth_rate_limit(pki, dovecot):
    inst = dovecot_instance(pki, dovecot, {"smtpd_client_auth_rate_limit": "2",
                                           "smtpd_client_event_limit_exceptions": ""},
                            anvil=True)
    try:
        c = TlsRaw(inst.smtp_port)
        c.cmd("EHLO me.com")
        assert c.cmd("AUTH PLAIN AGFsaWNlAHdyb25n").startswith("535 ")
        c.cmd("QUIT")
        c = TlsRaw(inst.smtp_port)
        c.cmd("EHLO me.com")
        assert c.cmd("AUTH PLAIN AGFsaWNlAHdyb25n").startswith("535 ")
        assert c.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == \
            "450 4.7.1 Error: too many AUTH commands from 127.0.0.1"
        c.cmd("QUIT")
        assert "warning: AUTH command rate limit exceeded: 3 from " in inst.log()
    finally:
        inst.cleanup()
