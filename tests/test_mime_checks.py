"""End-to-end tests of MIME-aware content checks in cleanup (header_checks(5)): mail goes in
over SMTP (smtplib) through the shipped master.cf, and the test asserts on the SMTP reply, the
cleanup log line, and what local delivery wrote. Each table is set explicitly, since
mime_header_checks and nested_header_checks default to $header_checks. One test takes the local
submission path with a non_smtpd_milters filter (tests/helpers/test_milter.c)."""
import smtplib
import subprocess

import pytest

from conftest import REPO
from instance import Instance, helper_path, wait_for

SENDER = "sender@example.org"


@pytest.fixture
def inst():
    i = Instance("mime", main_cf={"mydestination": "localhost, $myhostname",
                                  "local_recipient_maps": ""})
    text = (REPO / "conf" / "master.cf").read_text().replace(
        "smtp      inet", f"127.0.0.1:{i.smtp_port} inet", 1)
    i.write_master_cf(text)
    yield i
    i.cleanup()


def configure(inst, tables=None, **params):
    """Writes each table (name -> regexp lines) and sets main.cf parameters."""
    for name, lines in (tables or {}).items():
        (inst.etc / name).write_text("".join(line + "\n" for line in lines))
        inst.main[name] = f"regexp:{inst.etc}/{name}"
    inst.main.update(params)
    inst.write_main_cf()
    inst.start_master()


def send(inst, message):
    """Sends message (text with \\n line ends); returns None when accepted, else (code, text)."""
    rcpt = f"{inst.user}@localhost"
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=15) as s:
        s.ehlo("client.example")
        try:
            s.sendmail(SENDER, [rcpt], message.replace("\n", "\r\n"))
        except smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error.decode()
    return None


def mailbox(inst):
    path = inst.mail / inst.user
    return path.read_text() if path.exists() else ""


def wait_delivered(inst, marker):
    return wait_for(lambda: marker in mailbox(inst) and mailbox(inst), 20,
                    what=f"{marker!r} in the mailbox")


def reject_log(inst, action_class, text, reply):
    """Waits for cleanup's log line of a REJECT action and returns it."""
    line = (f"reject: {action_class} {text} from localhost[127.0.0.1]; from=<{SENDER}> "
            f"to=<{inst.user}@localhost> proto=ESMTP helo=<client.example>: {reply}")
    inst.wait_log(line)
    return line


def multipart(*parts, boundary="=-b1", headers="Subject: test\n"):
    """A multipart/mixed message; each part is its header block and body, without delimiters."""
    text = (f"From: {SENDER}\n{headers}MIME-Version: 1.0\n"
            f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\n\nThis is MIME.\n")
    for p in parts:
        text += f"--{boundary}\n{p}\n"
    return text + f"--{boundary}--\n"


EXE_PART = ('Content-Type: application/octet-stream; name="evil.exe"\n'
            "Content-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA\n")


def test_part_header_matches_mime_header_checks_reject(inst):
    configure(inst, {
        "mime_header_checks": ['/^Content-Type:.*name="?[^"]*\\.exe/ REJECT executables not accepted',
                               "/^X-Part-Tracking:/ IGNORE"],
        "header_checks": ["/^Content-Type:.*evil/ REJECT wrong table"],
    })
    r = send(inst, multipart("Content-Type: text/plain\n\nhello\n", EXE_PART))
    assert r == (550, "5.7.1 executables not accepted")
    reject_log(inst, "header", 'Content-Type: application/octet-stream; name="evil.exe"',
               "5.7.1 executables not accepted")
    assert "wrong table" not in inst.log()

    # the same structure without the executable is delivered; IGNORE removed a part header
    r = send(inst, multipart("Content-Type: text/plain\nX-Part-Tracking: 42\n\nhello part\n",
                             'Content-Type: text/plain; name="notes.txt"\n\nnotes\n'))
    assert r is None
    box = wait_delivered(inst, "hello part")
    assert "X-Part-Tracking" not in box
    assert 'Content-Type: text/plain; name="notes.txt"' in box
    assert "--=-b1--" in box


def test_attached_message_header_matches_nested_header_checks(inst):
    configure(inst, {
        "nested_header_checks": ["/^Subject:.*cheap pills/ REJECT no forwarded spam"],
        "header_checks": ["/^Subject:.*cheap pills/ REJECT wrong table"],
        "mime_header_checks": ["/^Subject:/ REJECT wrong table too"],
    })
    attached = ("Content-Type: message/rfc822\n\n"
                "From: spammer@example.net\nSubject: cheap pills\n\nbuy now\n")
    r = send(inst, multipart("Content-Type: text/plain\n\nsee attached\n", attached,
                             headers="Subject: Fwd: look at this\n"))
    assert r == (550, "5.7.1 no forwarded spam")
    reject_log(inst, "header", "Subject: cheap pills", "5.7.1 no forwarded spam")
    assert "wrong table" not in inst.log()

    # a message/rfc822 primary body: its headers are nested too
    r = send(inst, f"From: {SENDER}\nSubject: bounce copy\nMIME-Version: 1.0\n"
                   "Content-Type: message/rfc822\n\nSubject: cheap pills\n\nbuy\n")
    assert r == (550, "5.7.1 no forwarded spam")


def test_body_checks_see_part_bodies_but_not_part_headers(inst):
    configure(inst, {
        "body_checks": ["/^EICAR-STANDARD-TEST-LINE/ REJECT virus found",
                        "/^Content-Type: application\\/x-trap/ REJECT part header as body"],
    })
    r = send(inst, multipart("Content-Type: text/plain\n\nclean text\n",
                             "Content-Type: text/plain\n\nfirst line\n"
                             "EICAR-STANDARD-TEST-LINE in the second part\n"))
    assert r == (550, "5.7.1 virus found")
    reject_log(inst, "body", "EICAR-STANDARD-TEST-LINE in the second part",
               "5.7.1 virus found")

    r = send(inst, multipart("Content-Type: application/x-trap\n\ntrap body\n"))
    assert r is None
    box = wait_delivered(inst, "trap body")
    assert "Content-Type: application/x-trap" in box
    assert "part header as body" not in inst.log()


def test_body_checks_size_limit_applies_per_body_part(inst):
    configure(inst, {"body_checks": ["/^MARKER/ REJECT marker found"]},
              body_checks_size_limit="200")
    filler = "".join(f"filler line {i:03d} of the first part\n" for i in range(10))  # 350 bytes
    # past the first 200 bytes of its part: not inspected, delivered
    r = send(inst, multipart("Content-Type: text/plain\n\n" + filler + "MARKER late\n"))
    assert r is None
    wait_delivered(inst, "MARKER late")
    assert "marker found" not in inst.log()
    # the next part's body is a new segment: inspected from its start again
    r = send(inst, multipart("Content-Type: text/plain\n\n" + filler,
                             "Content-Type: text/plain\n\nMARKER early\n"))
    assert r == (550, "5.7.1 marker found")
    reject_log(inst, "body", "MARKER early", "5.7.1 marker found")


@pytest.mark.parametrize("disabled", ["no", "yes"])
def test_disable_mime_input_processing_moves_part_headers_to_body_checks(inst, disabled):
    configure(inst, {
        "mime_header_checks": ["/^X-Part-Flag: yes/ REJECT seen by mime_header_checks",
                               "/^Content-Type: text\\/x-flag/ REJECT primary MIME header"],
        "body_checks": ["/^X-Part-Flag: yes/ REJECT seen by body_checks"],
    }, disable_mime_input_processing=disabled)
    r = send(inst, multipart("Content-Type: text/plain\nX-Part-Flag: yes\n\nbody\n"))
    if disabled == "no":
        assert r == (550, "5.7.1 seen by mime_header_checks")
        reject_log(inst, "header", "X-Part-Flag: yes", "5.7.1 seen by mime_header_checks")
    else:
        assert r == (550, "5.7.1 seen by body_checks")
        reject_log(inst, "body", "X-Part-Flag: yes", "5.7.1 seen by body_checks")
    # either way, the primary MIME headers go to mime_header_checks
    r = send(inst, f"From: {SENDER}\nSubject: x\nContent-Type: text/x-flag\n\nbody\n")
    assert r == (550, "5.7.1 primary MIME header")


def nested_multipart(depth):
    text = f"From: {SENDER}\nSubject: deep\nMIME-Version: 1.0\n"
    for i in range(depth):
        text += f'Content-Type: multipart/mixed; boundary="level{i}"\n\n--level{i}\n'
    text += "Content-Type: text/plain\n\ninnermost text\n"
    for i in reversed(range(depth)):
        text += f"--level{i}--\n"
    return text


def test_mime_nesting_limit(inst):
    configure(inst, {"header_checks": ["/^X-Never-Matches-Anything:/ REJECT"]},
              mime_nesting_limit="3")
    r = send(inst, nested_multipart(4))
    assert r == (550, "5.6.0 MIME nesting exceeds safety limit")
    inst.wait_log('reject: mime-error MIME nesting exceeds safety limit: Content-Type: '
                  'multipart/mixed; boundary="level3" from localhost[127.0.0.1]; '
                  f"from=<{SENDER}> to=<{inst.user}@localhost>")
    r = send(inst, nested_multipart(3))
    assert r is None
    wait_delivered(inst, "innermost text")


def test_strict_mime_encoding_domain(inst):
    configure(inst, strict_mime_encoding_domain="yes")
    bad = (f"From: {SENDER}\nSubject: encoded multipart\nMIME-Version: 1.0\n"
           'Content-Type: multipart/mixed; boundary="b"\nContent-Transfer-Encoding: base64\n\n'
           "--b\nContent-Type: text/plain\n\nx\n--b--\n")
    r = send(inst, bad)
    assert r == (550, "5.6.0 invalid message/* or multipart/* encoding domain")
    inst.wait_log("reject: mime-error invalid message/* or multipart/* encoding domain: base64 "
                  f"from localhost[127.0.0.1]; from=<{SENDER}> to=<{inst.user}@localhost>")
    r = send(inst, bad.replace("base64", "7bit"))
    assert r is None
    wait_delivered(inst, "encoded multipart")


def test_checks_apply_before_non_smtpd_milters(inst):
    sock, mlog = inst.root / "milter.sock", inst.root / "milter.log"
    milter = subprocess.Popen(inst._as_user([helper_path("test_milter"), f"unix:{sock}",
                                             str(mlog), "addheader=X-Added:yes"]))
    try:
        wait_for(lambda: mlog.exists() and "ready" in mlog.read_text() and sock.exists(),
                 what="the test milter")
        configure(inst, {"mime_header_checks": ["/^X-Part-Tracking:/ IGNORE"],
                         "body_checks": ["/^secret line/ REPLACE redacted line"]},
                  non_smtpd_milters=f"unix:{sock}")
        r = inst.run("sendmail", "-f", SENDER, inst.user, input=multipart(
            "Content-Type: text/plain\nX-Part-Tracking: 7\n\nsecret line\n",
            "Content-Type: text/plain\n\nsecond part\n"))
        assert r.returncode == 0, r.stderr
        box = wait_delivered(inst, "second part")
        assert "X-Added: yes" in box  # the filter ran
        assert "redacted line" in box and "secret line" not in box
        assert "X-Part-Tracking" not in box
        assert box.count("--=-b1") == 3
    finally:
        milter.kill()
        milter.wait()


def test_part_header_at_the_very_end_is_checked_and_kept(inst):
    # The content ends inside a part's header block (no blank line, no body): the pending
    # header must still be checked (REJECT) or written (delivered), never silently dropped.
    head = ('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="=-e"\nSubject: tail\n\n'
            "--=-e\n")
    configure(inst, {"mime_header_checks": ["/^X-Last: bad/ REJECT last header refused"]})
    assert send(inst, head + "X-Last: bad\n") == (550, "5.7.1 last header refused")
    assert send(inst, head + "X-Last: fine\n") is None
    box = wait_delivered(inst, "Subject: tail")
    assert "X-Last: fine" in box
