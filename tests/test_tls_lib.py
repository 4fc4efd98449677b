"""The TLS library against a real external client: tests/helpers/tls_echo_server (our server
context) driven by `openssl s_client`, with a test CA, a server certificate for
mail.example.test and a client certificate made by the test with the openssl command."""
import os
import re
import shutil
import subprocess

import pytest

BUILD = os.environ.get("KESTREL_BUILD") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build")
SERVER = os.path.join(BUILD, "tests", "helpers", "tls_echo_server")

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None or not os.path.exists(SERVER),
    reason="needs openssl and the tls_echo_server helper")


def ossl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
         "-days", "2", "-subj", "/CN=Test CA", cwd=d)
    for name, cn, ext in (("server", "mail.example.test", "subjectAltName=DNS:mail.example.test"),
                          ("client", "client.example.test", "basicConstraints=CA:FALSE")):
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
             f"{name}.csr", "-subj", f"/CN={cn}", cwd=d)
        (d / f"{name}.ext").write_text(ext + "\n")
        ossl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt",
             cwd=d)
    # chain file: key, then the leaf and its issuer
    (d / "chain.pem").write_text((d / "server.key").read_text() + (d / "server.crt").read_text()
                                 + (d / "ca.pem").read_text())
    return d


class Server:
    def __init__(self, pki, *args):
        self.proc = subprocess.Popen([SERVER, "-c", str(pki / "chain.pem"), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("port "), line
        self.port = int(line.split()[1])

    def log(self):
        self.proc.wait(timeout=20)
        lines = self.proc.stderr.read().splitlines()
        return [re.sub(r"^tls_echo_server: ", "", l) for l in lines]


def s_client(port, *args, data="hello\nQUIT\n"):
    return subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
         "mail.example.test", "-ign_eof", *args],
        input=data, capture_output=True, text=True, timeout=30)


def test_verified_by_s_client(pki):
    srv = Server(pki, "-n", "1")
    out = s_client(srv.port, "-CAfile", str(pki / "ca.pem"), "-verify_return_error")
    assert "Verify return code: 0 (ok)" in out.stdout
    assert "\nhello\n" in out.stdout
    assert srv.log() == [
        "Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher "
        "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS "
        "(2048 bits) server-digest SHA256"]


def test_tls12_client_and_ecdhe(pki):
    # OpenSSL no longer holds the TLS 1.2 key share after the handshake: no key-exchange part
    srv = Server(pki, "-n", "1")
    out = s_client(srv.port, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
    assert "\nhello\n" in out.stdout
    assert srv.log() == [
        "Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.2 with cipher "
        "ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits) server-signature RSA-PSS (2048 bits) "
        "server-digest SHA256"]


def test_protocol_refused(pki):
    srv = Server(pki, "-n", "1", "-P", ">=TLSv1.3")
    out = s_client(srv.port, "-tls1_2")
    assert "hello" not in out.stdout
    log = srv.log()
    assert log[0] == "SSL_accept error from localhost[127.0.0.1]: -1"
    assert log[1].startswith(
        "warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol:")


def test_client_certificate(pki):
    srv = Server(pki, "-n", "1", "-a", "-C", str(pki / "ca.pem"))
    out = s_client(srv.port, "-cert", str(pki / "client.crt"), "-key", str(pki / "client.key"))
    fpt = subprocess.run(["openssl", "x509", "-in", str(pki / "client.crt"), "-noout",
                          "-fingerprint", "-sha256"], capture_output=True, text=True,
                         check=True).stdout.strip().split("=", 1)[1]
    assert f"fingerprint {fpt}\n" in out.stdout
    log = srv.log()
    assert len(log) == 1
    assert log[0].startswith("Trusted TLS connection established from localhost[127.0.0.1]: "
                             "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) "
                             "key-exchange X25519 server-signature RSA-PSS (2048 bits) "
                             "server-digest SHA256 client-signature RSA-PSS (2048 bits) "
                             "client-digest SHA256")


def test_plaintext_client_lost(pki):
    srv = Server(pki, "-n", "1")
    import socket
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"EHLO x\r\n")
    log = srv.log()
    assert log[0] == "SSL_accept error from localhost[127.0.0.1]: -1"
    assert "warning: TLS library problem: " in log[1]


def test_session_resumption(pki, tmp_path):
    srv = Server(pki, "-n", "2", "-S", f"btree:{tmp_path}/scache")
    sess = tmp_path / "sess.pem"
    first = s_client(srv.port, "-sess_out", str(sess))
    assert "\nhello\n" in first.stdout
    second = s_client(srv.port, "-sess_in", str(sess))
    assert "Reused, TLSv1.3" in second.stdout
    srv.log()
