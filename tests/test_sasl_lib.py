"""The SASL library against real peers on loopback, through tests/helpers/sasl_probe:

- Dovecot (Debian dovecot-core) as the auth server on a unix socket in a temp dir, with a
  passwd-file user (smtpd_sasl_type = dovecot);
- Cyrus SASL (smtpd_sasl_type = cyrus) with pwcheck_method: saslauthd, a real saslauthd
  (Debian sasl2-bin) using its rimap backend against that Dovecot's IMAP listener, and with
  auxprop/sasldb on a file made by saslpasswd2 -f;
- the Cyrus client (PLAIN, LOGIN) against both.

Every daemon is started and stopped here, with bounded waits.
"""
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, run

PROBE = str(BUILD / "tests" / "helpers" / "sasl_probe")
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
SASLAUTHD = shutil.which("saslauthd") or "/usr/sbin/saslauthd"
SASLPASSWD2 = shutil.which("saslpasswd2") or "/usr/sbin/saslpasswd2"

need_dovecot = pytest.mark.skipif(
    not os.path.exists(DOVECOT) or not os.path.exists("/usr/lib/dovecot/imap"),
    reason="dovecot-core/dovecot-imapd not installed")
need_saslauthd = pytest.mark.skipif(not os.path.exists(SASLAUTHD),
                                    reason="sasl2-bin not installed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, what, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def probe(cfg, *args, options=(), timeout=30):
    argv = [PROBE, "-c", str(cfg)]
    for o in options:
        argv += ["-o", o]
    argv += list(args)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout.splitlines(), p.stderr


def unprivileged():
    """The user daemons run as: nobody when we are root, else ourselves."""
    if os.getuid() == 0:
        pw = pwd.getpwnam("nobody")
    else:
        pw = pwd.getpwuid(os.getuid())
    return pw


@pytest.fixture
def cfg(tmp_path):
    d = tmp_path / "etc"
    d.mkdir()
    (d / "main.cf").write_text("")
    return d


@pytest.fixture
def dovecot():
    """A Dovecot with only an auth listener (unix socket) and an IMAP listener (for rimap).
    Its directory is a short path under /tmp that the unprivileged auth process can reach
    (pytest's tmp_path has 0700 parents and may exceed the unix socket path limit)."""
    base = pathlib.Path(tempfile.mkdtemp(prefix="kestrel-sasl-"))
    try:
        yield from _dovecot(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _dovecot(base):
    for sub in ("run", "state", "mail"):
        (base / sub).mkdir(parents=True)
    os.chmod(base / "mail", 0o1777)
    os.chmod(base, 0o755)
    pw = unprivileged()
    grp = __import__("grp").getgrgid(pw.pw_gid).gr_name
    (base / "passwd").write_text("alice:{PLAIN}secret\n")
    imap_port = free_port()
    conf = base / "dovecot.conf"
    conf.write_text(f"""
base_dir = {base}/run
state_dir = {base}/state
protocols = imap
log_path = {base}/dovecot.log
default_internal_user = {pw.pw_name}
default_internal_group = {grp}
default_login_user = {pw.pw_name}
auth_mechanisms = plain login
auth_failure_delay = 0
disable_plaintext_auth = no
ssl = no
mail_location = maildir:{base}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={pw.pw_uid} gid={pw.pw_gid} home={base}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service auth {{
  unix_listener auth {{
    path = {base}/auth
    mode = 0666
  }}
}}
service anvil {{
  chroot =
}}
""")
    proc = subprocess.Popen([DOVECOT, "-c", str(conf), "-F"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_for(lambda: (base / "auth").exists() or proc.poll() is not None, "dovecot")
        if proc.poll() is not None:
            pytest.fail("dovecot failed: " + proc.stderr.read().decode(errors="replace"))

        def imap_up():
            try:
                with socket.create_connection(("127.0.0.1", imap_port), timeout=1):
                    return True
            except OSError:
                return False
        wait_for(imap_up, "dovecot imap listener")
        yield {"auth": str(base / "auth"), "imap_port": imap_port, "log": base / "dovecot.log"}
    finally:
        stop(proc)


@pytest.fixture
def saslauthd(tmp_path, dovecot):
    """saslauthd -a rimap against the Dovecot IMAP listener, with its own run directory."""
    mux = tmp_path / "saslauthd"
    mux.mkdir()
    proc = subprocess.Popen([SASLAUTHD, "-d", "-a", "rimap", "-O",
                             f"127.0.0.1/{dovecot['imap_port']}", "-m", str(mux), "-n", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # it signals its whole process group
    try:
        wait_for(lambda: (mux / "mux").exists() or proc.poll() is not None, "saslauthd")
        assert proc.poll() is None, "saslauthd exited"
        yield {"mux": str(mux / "mux"), "proc": proc}
    finally:
        stop(proc)


def dovecot_opts(dovecot, *extra):
    return ["smtpd_sasl_type=dovecot", "smtpd_sasl_path=" + dovecot["auth"]] + list(extra)


# ---- postconf -a / -A --------------------------------------------------------------------------

def test_postconf_lists_built_in_types(cfg):
    assert run(["postconf", "-a"], config_dir=cfg).stdout == "cyrus\ndovecot\n"
    assert run(["postconf", "-A"], config_dir=cfg).stdout == "cyrus\n"


# ---- Dovecot -----------------------------------------------------------------------------------

@need_dovecot
def test_dovecot_login_seed_dialogue(cfg, dovecot):
    rc, out, err = probe(cfg, "server", "LOGIN", "-", "alice", "secret",
                         options=dovecot_opts(dovecot))
    assert out == ["mechs: PLAIN LOGIN", "ehlo: AUTH PLAIN LOGIN",
                   "S: 334 VXNlcm5hbWU6", "C: YWxpY2U=",
                   "S: 334 UGFzc3dvcmQ6", "C: c2VjcmV0",
                   "S: 235 2.7.0 Authentication successful",
                   "method: LOGIN", "username: alice", "result: 0"], err
    assert rc == 0


@need_dovecot
def test_dovecot_plain_good_and_bad(cfg, dovecot):
    rc, out, err = probe(cfg, "server", "PLAIN", r"\0alice\0secret",
                         options=dovecot_opts(dovecot))
    assert out[2:] == ["S: 235 2.7.0 Authentication successful", "method: PLAIN",
                       "username: alice", "result: 0"]
    rc, out, err = probe(cfg, "server", "PLAIN", r"\0alice\0wrong",
                         options=dovecot_opts(dovecot))
    assert rc == 1
    assert out[2:] == ["S: 535 5.7.8 Error: authentication failed: ", "method: PLAIN",
                       "result: -1"]
    assert "warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: \n" in err
    # PLAIN without an initial response: empty 334 challenge first.
    rc, out, err = probe(cfg, "server", "PLAIN", "-", r"\0alice\0secret",
                         options=dovecot_opts(dovecot))
    assert out[2:5] == ["S: 334 ", "C: AGFsaWNlAHNlY3JldA==",
                        "S: 235 2.7.0 Authentication successful"]


@need_dovecot
def test_dovecot_login_bad_password_reason(cfg, dovecot):
    rc, out, err = probe(cfg, "server", "LOGIN", "-", "alice", "wrong",
                         options=dovecot_opts(dovecot))
    assert "S: 535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6" in out
    assert "warning: localhost[127.0.0.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6" in err
    rc, out, err = probe(cfg, "server", "LOGIN", "-", "nobody-here", "x",
                         options=dovecot_opts(dovecot))
    assert "S: 535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6" in out


@need_dovecot
def test_dovecot_abort_base64_and_control_chars(cfg, dovecot):
    rc, out, err = probe(cfg, "server", "LOGIN", "-", "raw:*", options=dovecot_opts(dovecot))
    assert "S: 501 5.7.0 Authentication aborted" in out
    assert "warning: localhost[127.0.0.1]: SASL LOGIN authentication aborted" in err
    for bad in (r"raw:YWxp\tY2U=", r"raw:YWxp\nY2U=", r"raw:YWxp\rY2U=", r"raw:YWxp\0Y2U=",
                "raw:!!!!"):
        rc, out, err = probe(cfg, "server", "LOGIN", "-", bad, options=dovecot_opts(dovecot))
        assert ("S: 535 5.7.8 Error: authentication failed: "
                "Invalid base64 data in continued response") in out, (bad, out)
    rc, out, err = probe(cfg, "server", "PLAIN", r"raw:AGFs\tresp=x",
                         options=dovecot_opts(dovecot))
    assert ("S: 535 5.7.8 Error: authentication failed: "
            "Invalid base64 data in initial response") in out
    # The auth server never saw a malformed line (an exchange we ended early leaves only
    # "disconnected with 1 pending requests").
    bad = [line for line in dovecot["log"].read_text().splitlines()
           if ("Error" in line or "Panic" in line) and "pending requests" not in line]
    assert bad == []


@need_dovecot
def test_dovecot_response_limit(cfg, dovecot):
    big = "x" * 300
    rc, out, err = probe(cfg, "server", "LOGIN", "-", big,
                         options=dovecot_opts(dovecot, "smtpd_sasl_response_limit=100"))
    assert "S: 500 5.5.6 Authentication exchange line is too long" in out


@need_dovecot
def test_dovecot_options_and_broken_clients(cfg, dovecot):
    rc, out, err = probe(cfg, "server", "PLAIN", r"\0alice\0secret",
                         options=dovecot_opts(dovecot, "broken_sasl_auth_clients=yes"))
    assert out[:3] == ["mechs: PLAIN LOGIN", "ehlo: AUTH PLAIN LOGIN",
                       "ehlo-broken: AUTH=PLAIN LOGIN"]
    opts = dovecot_opts(dovecot, "smtpd_sasl_security_options=noplaintext, noanonymous",
                        "smtpd_sasl_tls_security_options=noanonymous")
    rc, out, err = probe(cfg, "server", "PLAIN", r"\0alice\0secret", options=opts)
    assert out[0] == "mechs: "
    assert "S: 535 5.7.8 Error: authentication failed: Invalid authentication mechanism" in out
    rc, out, err = probe(cfg, "-T", "server", "PLAIN", r"\0alice\0secret", options=opts)
    assert out[0] == "mechs: PLAIN LOGIN"
    assert "S: 235 2.7.0 Authentication successful" in out
    # Several exchanges over one connection to the auth server.
    rc, out, err = probe(cfg, "-n", "3", "server", "PLAIN", r"\0alice\0secret",
                         options=dovecot_opts(dovecot))
    assert out.count("S: 235 2.7.0 Authentication successful") == 3


@need_dovecot
def test_dovecot_inet_and_down(cfg, tmp_path, dovecot):
    rc, out, err = probe(cfg, "server", "PLAIN", r"\0alice\0secret",
                         options=["smtpd_sasl_type=dovecot",
                                  "smtpd_sasl_path=" + str(tmp_path / "nosuch")])
    assert out == ["mechs: ", "S: 454 4.7.0 Temporary authentication failure: "
                   "Connection lost to authentication server", "method: PLAIN", "result: -2"]
    assert "warning: SASL: Connect to %s failed: No such file or directory" % (
        tmp_path / "nosuch") in err
    rc, out, err = probe(cfg, "server", "LOGIN", "-",
                         options=["smtpd_sasl_type=dovecot",
                                  "smtpd_sasl_path=inet:127.0.0.1:%d" % free_port()])
    assert "S: 454 4.7.0 Temporary authentication failure: " \
           "Connection lost to authentication server" in out
    assert not any(line.startswith("S: 535") for line in out)


@need_dovecot
def test_cyrus_client_against_dovecot(cfg, dovecot):
    rc, out, err = probe(cfg, "client", "alice", "secret", options=dovecot_opts(
        dovecot, "smtp_sasl_security_options=noanonymous",
        "smtp_sasl_mechanism_filter=plain, login"))
    assert out[2:] == ["C: AUTH PLAIN AGFsaWNlAHNlY3JldA==",
                       "S: 235 2.7.0 Authentication successful",
                       "method: PLAIN", "username: alice", "result: 0"], (out, err)
    rc, out, err = probe(cfg, "client", "alice", "secret", options=dovecot_opts(
        dovecot, "smtp_sasl_security_options=noanonymous", "smtp_sasl_mechanism_filter=login"))
    assert out[2:] == ["C: AUTH LOGIN", "S: 334 VXNlcm5hbWU6", "C: YWxpY2U=",
                       "S: 334 UGFzc3dvcmQ6", "C: c2VjcmV0",
                       "S: 235 2.7.0 Authentication successful",
                       "method: LOGIN", "username: alice", "result: 0"], (out, err)
    # The default smtp_sasl_security_options (noplaintext) leave nothing to use.
    rc, out, err = probe(cfg, "client", "alice", "secret", options=dovecot_opts(dovecot))
    assert rc == 2 and out[-1].startswith("client-error: ")


# ---- Cyrus: saslauthd --------------------------------------------------------------------------

def cyrus_conf(tmp_path, name, text):
    d = tmp_path / "sasl2"
    d.mkdir(exist_ok=True)
    (d / (name + ".conf")).write_text(text)
    return ["smtpd_sasl_type=cyrus", "cyrus_sasl_config_path=" + str(d),
            "smtpd_sasl_path=" + name]


@need_dovecot
@need_saslauthd
def test_cyrus_saslauthd(cfg, tmp_path, saslauthd):
    opts = cyrus_conf(tmp_path, "smtpd", "pwcheck_method: saslauthd\n"
                      f"saslauthd_path: {saslauthd['mux']}\nmech_list: PLAIN LOGIN\n")
    rc, out, err = probe(cfg, "server", "LOGIN", "-", "alice", "secret", options=opts)
    assert out == ["mechs: PLAIN LOGIN", "ehlo: AUTH PLAIN LOGIN",
                   "S: 334 VXNlcm5hbWU6", "C: YWxpY2U=",
                   "S: 334 UGFzc3dvcmQ6", "C: c2VjcmV0",
                   "S: 235 2.7.0 Authentication successful",
                   "method: LOGIN", "username: alice", "result: 0"], err
    rc, out, err = probe(cfg, "server", "PLAIN", r"\0alice\0wrong", options=opts)
    assert "S: 535 5.7.8 Error: authentication failed: authentication failure" in out
    assert ("warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: "
            "authentication failure") in err
    rc, out, err = probe(cfg, "client", "alice", "secret",
                         options=opts + ["smtp_sasl_security_options=noanonymous"])
    assert "S: 235 2.7.0 Authentication successful" in out, (out, err)
    # saslauthd down: temporary, never 535.
    stop(saslauthd["proc"])
    rc, out, err = probe(cfg, "server", "PLAIN", r"\0alice\0secret", options=opts)
    assert "S: 454 4.7.0 Temporary authentication failure: generic failure" in out
    assert not any(line.startswith("S: 535") for line in out)


# ---- Cyrus: sasldb -------------------------------------------------------------------------------

@pytest.mark.skipif(not os.path.exists(SASLPASSWD2), reason="sasl2-bin not installed")
def test_cyrus_sasldb(cfg, tmp_path):
    db = tmp_path / "sasldb2"
    subprocess.run([SASLPASSWD2, "-f", str(db), "-c", "-p", "-u", "example.com", "alice"],
                   input="secret", text=True, check=True, timeout=30)
    opts = cyrus_conf(tmp_path, "smtpd", "pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                      f"sasldb_path: {db}\nmech_list: PLAIN LOGIN CRAM-MD5\n")
    opts.append("smtpd_sasl_local_domain=example.com")
    rc, out, err = probe(cfg, "server", "PLAIN", r"\0alice\0secret", options=opts)
    assert out == ["mechs: PLAIN LOGIN CRAM-MD5", "ehlo: AUTH PLAIN LOGIN CRAM-MD5",
                   "S: 235 2.7.0 Authentication successful", "method: PLAIN",
                   "username: alice@example.com", "result: 0"], err
    rc, out, err = probe(cfg, "server", "LOGIN", "-", "alice", "wrong", options=opts)
    assert "S: 535 5.7.8 Error: authentication failed: authentication failure" in out
    rc, out, err = probe(cfg, "server", "PLAIN", r"\0nobody\0secret", options=opts)
    assert "S: 535 5.7.8 Error: authentication failed: authentication failure" in out
    # noplaintext leaves CRAM-MD5, which the default client options accept.
    opts2 = opts + ["smtpd_sasl_security_options=noplaintext, noanonymous"]
    rc, out, err = probe(cfg, "server", "PLAIN", r"\0alice\0secret", options=opts2)
    assert out[0] == "mechs: CRAM-MD5"
    rc, out, err = probe(cfg, "client", "alice", "secret", options=opts2)
    assert out[2] == "C: AUTH CRAM-MD5", (out, err)
    assert "S: 235 2.7.0 Authentication successful" in out, (out, err)
    assert "username: alice@example.com" in out
