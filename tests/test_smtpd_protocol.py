"""End-to-end tests of smtpd under a sandbox master (smtpd + cleanup; no qmgr, so accepted
messages stay in incoming/ to be read back): the seed dialogues with their exact replies, the
EHLO list and its switches, MAIL/RCPT/DATA/BDAT, ESMTP parameters carried into the queue file,
the Received header, pipelining, limits and the log lines pflogsumm and fail2ban parse."""
import re
import smtplib
import socket
import subprocess
import time

import pytest

from instance import Instance, wait_for

SMTPD_MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
"""


def make_instance(extra=None, name="smtpd"):
    main = {"mydomain": "example.test", "myorigin": "example.test",
            "mynetworks": "127.0.0.0/8", "smtpd_error_sleep_time": "0",
            "local_recipient_maps": ""}
    main.update(extra or {})
    inst = Instance(name, main_cf=main)
    inst.write_master_cf(SMTPD_MASTER_CF.format(port=inst.smtp_port))
    inst.start_master()
    return inst


@pytest.fixture
def inst():
    i = make_instance()
    yield i
    i.cleanup()


class Raw:
    """A byte-exact SMTP client over a raw socket."""

    def __init__(self, port, greet=True, host="127.0.0.1"):
        self.s = socket.create_connection((host, port), timeout=15)
        self.buf = b""
        self.greeting = self.reply() if greet else None

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                raise EOFError(self.buf)
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def cmd(self, text):
        self.send(text + "\r\n")
        r = self.reply()
        return r[0] if len(r) == 1 else r

    def closed(self, timeout=5):
        """True when the server closed the connection (after any pending data)."""
        self.s.settimeout(timeout)
        try:
            while True:
                data = self.s.recv(65536)
                if not data:
                    return True
                self.buf += data
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.s.close()


def incoming(inst):
    d = inst.spool / "incoming"
    return sorted(p for p in d.iterdir() if not p.name.startswith(".")) if d.exists() else []


def records(path):
    data = path.read_bytes()
    out, i = [], 0
    while i < len(data):
        t = chr(data[i])
        colon = data.index(b":", i)
        n = int(data[i + 1:colon])
        out.append((t, data[colon + 1:colon + 1 + n].decode("utf-8", "replace")))
        i = colon + 2 + n
    return out


def content_lines(path):
    recs = records(path)
    start = [i for i, r in enumerate(recs) if r[0] == "M"][0]
    end = [i for i, r in enumerate(recs) if r[0] == "X"][0]
    return [r[1] for r in recs[start + 1:end]]


def no_queue_files(inst):
    """cleanup removes an aborted file when it sees the abort; allow it a moment."""
    wait_for(lambda: incoming(inst) == [], 5, what="incoming/ empty")
    return True


def queued_id(reply):
    m = re.fullmatch(r"250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)", reply)
    assert m, reply
    return m.group(1)


def wait_file(inst, qid):
    wait_for(lambda: (inst.spool / "incoming" / qid).exists(), 5, what="queue file")
    return inst.spool / "incoming" / qid


# ---- the seed dialogues ----------------------------------------------------------------------

def test_seed_ehlo_list_and_queued(inst):
    c = Raw(inst.smtp_port)
    assert c.greeting == ["220 mail.example.test ESMTP Kestrel"]
    assert c.cmd("EHLO studio") == [
        "250-mail.example.test", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY",
        "250-ETRN", "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN", "250-SMTPUTF8",
        "250 CHUNKING"]
    assert c.cmd("mail from: tester@test.net") == "250 2.1.0 Ok"
    assert c.cmd("rcpt to: carla@studio") == "250 2.1.5 Ok"
    assert c.cmd("data") == "354 End data with <CR><LF>.<CR><LF>"
    c.send("Date: November 25, 2016\r\nFrom: tester\r\nMessage-ID: first-test\r\n"
           "Subject: mail server test\r\nHi carla,\r\nAre you reading this?\r\n.\r\n")
    qid = queued_id(c.reply()[0])
    assert c.cmd("quit") == "221 2.0.0 Bye"
    assert c.closed()
    path = wait_file(inst, qid)
    lines = content_lines(path)
    assert lines[0] == "Received: from studio (localhost [127.0.0.1])" or \
        re.fullmatch(r"Received: from studio \(\S+ \[127\.0\.0\.1\]\)", lines[0])
    assert lines[1] == f"\tby mail.example.test (Kestrel) with ESMTP id {qid}"
    assert re.fullmatch(r"\tfor <carla@studio>; \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d "
                        r"[-+]\d{4} \(\S+\)", lines[2]), lines[2]
    assert "Subject: mail server test" in lines
    assert lines[-1] == "Are you reading this?"
    recs = records(path)
    assert ("F", "tester@test.net") in recs
    assert ("R", "carla@studio") in recs
    assert ("A", "client_helo=studio") in recs
    assert ("A", "client_protocol=ESMTP") in recs
    assert ("A", "client_address=127.0.0.1") in recs
    inst.wait_log(f"{qid}: client=")
    inst.wait_log(" ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5")
    log = inst.log()
    assert re.search(r"smtpd\[\d+\]: connect from \S+\[127\.0\.0\.1\]", log)
    assert re.search(rf"smtpd\[\d+\]: {qid}: client=\S+\[127\.0\.0\.1\]$", log, re.M)
    assert re.search(r"smtpd\[\d+\]: disconnect from \S+\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 "
                     r"data=1 quit=1 commands=5$", log, re.M)


def test_seed_nested_mail_and_helo_reset(inst):
    c = Raw(inst.smtp_port)
    assert c.cmd("helo localhost.localdomain") == "250 mail.example.test"
    assert c.cmd("mail from:Aphey") == "250 2.1.0 Ok"
    assert c.cmd("mail from:tom") == "503 5.5.1 Error: nested MAIL command"
    assert c.cmd("helo localhost.localdomain") == "250 mail.example.test"
    assert c.cmd("mail from:Blizzard") == "250 2.1.0 Ok"
    assert c.cmd("rcpt to:openstack") == "250 2.1.5 Ok"
    assert c.cmd("data") == "354 End data with <CR><LF>.<CR><LF>"
    c.send("Subject: How are you?\r\nHow have you been these days?\r\n.\r\n")
    qid = queued_id(c.reply()[0])
    assert c.cmd("quit") == "221 2.0.0 Bye"
    path = wait_file(inst, qid)
    lines = content_lines(path)
    assert lines[1] == f"\tby mail.example.test (Kestrel) with SMTP id {qid}"
    assert "Subject: How are you?" in lines
    assert lines[-1] == "How have you been these days?"
    inst.wait_log("helo=2 mail=2/3 rcpt=1 data=1 quit=1 commands=7/8")


def test_smtplib_and_swaks(inst):
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=15) as s:
        code, _ = s.ehlo("client.example")
        assert code == 250
        assert s.has_extn("pipelining") and s.has_extn("chunking")
        assert s.esmtp_features["size"] == "10240000"
        refused = s.sendmail("a@example.org", ["b@example.test", "c@example.test"],
                             b"Subject: hi\r\n\r\nbody\r\n")
        assert refused == {}
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(inst.smtp_port),
                        "--from", "x@example.org", "--to", "y@example.test", "--pipeline",
                        "--body", "swaks body"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"<[-~]  250 2\.0\.0 Ok: queued as \w+", r.stdout)
    wait_for(lambda: len(incoming(inst)) == 2, 5)


# ---- command errors ----------------------------------------------------------------------------

def test_sequence_and_syntax_errors(inst):
    c = Raw(inst.smtp_port)
    assert c.cmd("RCPT TO:<a@example.test>") == "503 5.5.1 Error: need MAIL command"
    assert c.cmd("DATA") == "503 5.5.1 Error: need MAIL command"
    assert c.cmd("EHLO x") [0] == "250-mail.example.test"
    assert c.cmd("MAIL FROM") == "501 5.5.4 Syntax: MAIL FROM:<address>"
    assert c.cmd("MAIL FROM:<a b@>") == "501 5.1.7 Bad sender address syntax"
    assert c.cmd("MaIl FrOm:<>") == "250 2.1.0 Ok"
    assert c.cmd("DATA") == "503 5.5.1 Error: need RCPT command"
    assert c.cmd("RCPT TO:") == "501 5.5.4 Syntax: RCPT TO:<address>"
    assert c.cmd("RCPT TO:<>") == "501 5.1.3 Bad recipient address syntax"
    assert c.cmd("FOO bar") == "500 5.5.2 Error: command not recognized"
    assert c.cmd("DATA x") == "501 5.5.4 Syntax: DATA"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    assert c.cmd("RSET") == "250 2.0.0 Ok"
    assert c.cmd("RCPT TO:<a@example.test>") == "503 5.5.1 Error: need MAIL command"
    assert c.cmd("HELO") == "501 Syntax: HELO hostname"
    assert c.cmd("VRFY") == "501 5.5.4 Syntax: VRFY address"
    assert c.cmd("VRFY <joe@example.test>") == "252 2.0.0 joe@example.test"
    assert c.cmd("HELP").startswith("214 2.0.0 ")
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    inst.wait_log("unknown=0/1")


def test_esmtp_parameters(inst):
    c = Raw(inst.smtp_port)
    c.cmd("EHLO x")
    assert c.cmd("MAIL FROM:<a@b> SIZE=99999999999") == "552 5.3.4 Message size exceeds fixed limit"
    assert c.cmd("MAIL FROM:<a@b> SIZE=999999999999999999999999") == \
        "552 5.3.4 Message size exceeds fixed limit"
    assert c.cmd("MAIL FROM:<a@b> SIZE=12x") == "501 5.5.4 Bad message size syntax"
    assert c.cmd("MAIL FROM:<a@b> BODY=BINARYMIME") == "501 5.5.4 Bad BODY keyword: BINARYMIME"
    assert c.cmd("MAIL FROM:<a@b> RET=ALL") == "501 5.5.4 Bad RET parameter syntax"
    assert c.cmd("MAIL FROM:<a@b> ENVID=a+0Db") == "501 5.5.4 Bad ENVID parameter syntax"
    assert c.cmd("MAIL FROM:<a@b> ENVID=a+00b") == "501 5.5.4 Bad ENVID parameter syntax"
    assert c.cmd("MAIL FROM:<a@b> ENVID=a+0") == "501 5.5.4 Bad ENVID parameter syntax"
    assert c.cmd("MAIL FROM:<a@b> AUTH=x+0Ay") == "501 5.5.4 Bad AUTH parameter syntax"
    assert c.cmd("MAIL FROM:<a@b> XYZZY=1") == "555 5.5.4 Unsupported option: XYZZY"
    assert c.cmd("MAIL FROM:<j\u00f6rg@b>") == "553 5.6.7 Must declare SMTPUTF8 to send unicode address"
    assert c.cmd("MAIL FROM:<a@b> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=id+2Bx AUTH=<>") == \
        "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<c@d> NOTIFY=NEVER,SUCCESS") == "501 5.5.4 Error: Bad NOTIFY parameter syntax"
    assert c.cmd("RCPT TO:<c@d> NOTIFY=SOMETIMES") == "501 5.5.4 Error: Bad NOTIFY parameter syntax"
    assert c.cmd("RCPT TO:<c@d> ORCPT=rfc822;c+0D+0Ax@d") == "501 5.5.4 Error: Bad ORCPT parameter syntax"
    assert c.cmd("RCPT TO:<c@d> ORCPT=nosemicolon") == "501 5.5.4 Error: Bad ORCPT parameter syntax"
    assert c.cmd("RCPT TO:<c@d> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig+2Bx@d") == "250 2.1.5 Ok"
    assert c.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    c.send("Subject: x\r\n\r\nhi\r\n.\r\n")
    qid = queued_id(c.reply()[0])
    recs = records(wait_file(inst, qid))
    assert ("A", "dsn_envid=id+x") in recs
    assert ("A", "dsn_ret=HDRS") in recs
    assert ("A", "encoding=8bit") in recs
    assert ("D", "rfc822;orig+x@d") in recs
    assert ("N", "6") in recs
    assert ("R", "c@d") in recs


def test_ehlo_switches():
    inst = make_instance({"disable_vrfy_command": "yes", "smtputf8_enable": "no",
                          "smtpd_discard_ehlo_keywords": "chunking, dsn",
                          "message_size_limit": "5000",
                          "smtpd_banner": "$myhostname ESMTP hello"})
    try:
        c = Raw(inst.smtp_port)
        assert c.greeting == ["220 mail.example.test ESMTP hello"]
        assert c.cmd("EHLO x") == ["250-mail.example.test", "250-PIPELINING", "250-SIZE 5000",
                                   "250-ETRN", "250-ENHANCEDSTATUSCODES", "250 8BITMIME"]
        assert c.cmd("VRFY root") == "502 5.5.1 VRFY command is disabled"
        assert c.cmd("BDAT 1 LAST") == "500 5.5.2 Error: command not recognized"
        assert c.cmd("MAIL FROM:<a@b> RET=FULL") == "555 5.5.4 Unsupported option: RET"
        assert c.cmd("MAIL FROM:<a@b> SMTPUTF8") == "555 5.5.4 Unsupported option: SMTPUTF8"
        assert c.cmd("MAIL FROM:<a@b> SIZE=5001") == "552 5.3.4 Message size exceeds fixed limit"
    finally:
        inst.cleanup()


def test_helo_required():
    inst = make_instance({"smtpd_helo_required": "yes"})
    try:
        c = Raw(inst.smtp_port)
        assert c.cmd("MAIL FROM:<a@b>") == "503 5.5.1 Error: send HELO/EHLO first"
        assert c.cmd("HELO h") == "250 mail.example.test"
        assert c.cmd("MAIL FROM:<a@b>") == "250 2.1.0 Ok"
    finally:
        inst.cleanup()


# ---- DATA and BDAT ----------------------------------------------------------------------------

def send_message(inst, body, rcpts=("r@example.test",)):
    c = Raw(inst.smtp_port)
    c.cmd("EHLO x")
    assert c.cmd("MAIL FROM:<s@example.org>") == "250 2.1.0 Ok"
    for r in rcpts:
        assert c.cmd(f"RCPT TO:<{r}>") == "250 2.1.5 Ok"
    assert c.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    c.send(body)
    return c, c.reply()[0]


def test_dot_unstuffing_and_multiple_rcpts(inst):
    c, r = send_message(inst, b"Subject: s\r\n\r\n..leading dot\r\n.\r\n",
                        rcpts=("a@example.test", "b@example.test"))
    lines = content_lines(wait_file(inst, queued_id(r)))
    assert lines[1].endswith(";")
    assert re.fullmatch(r"\t\w{3}, .*", lines[2])
    assert lines[-1] == ".leading dot"


@pytest.mark.parametrize("variant", [b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\n", b"\r.\r\n"])
def test_smuggling_variants_do_not_end_data(inst, variant):
    body = (b"Subject: one\r\n\r\nfirst" + variant +
            b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n"
            b"Subject: smuggled\r\n\r\n.\r\n")
    c, r = send_message(inst, body)
    qid = queued_id(r)
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    time.sleep(0.3)
    files = incoming(inst)
    assert [p.name for p in files] == [qid]
    lines = content_lines(files[0])
    assert "Subject: smuggled" in " ".join(lines)
    assert not any(rec == ("R", "victim@example.test") for rec in records(files[0]))


def test_bare_newlines_normalized(inst):
    c, r = send_message(inst, b"Subject: s\r\n\r\na\nb\rc\r\n.\r\n")
    lines = content_lines(wait_file(inst, queued_id(r)))
    assert lines[-2:] == ["a", "b c"]


def test_bare_newline_yes_rejects():
    inst = make_instance({"smtpd_forbid_bare_newline": "yes"})
    try:
        c, r = send_message(inst, b"Subject: s\r\n\r\na\nb\r\n.\r\n")
        assert r == "550 5.5.2 Error: bare <LF> received"
        assert no_queue_files(inst)
    finally:
        inst.cleanup()


def test_long_lines_are_split_not_truncated(inst):
    long = b"x" * 5000
    c, r = send_message(inst, b"Subject: s\r\n\r\n" + long + b"\r\n.\r\n")
    recs = records(wait_file(inst, queued_id(r)))
    body = [x for x in recs if x[0] in "LP"][-3:]
    assert [t for t, _ in body] == ["P", "P", "L"]
    assert "".join(d for _, d in body) == "x" * 5000


def test_oversize_data_rejected_nothing_queued():
    inst = make_instance({"message_size_limit": "2000"})
    try:
        c, r = send_message(inst, b"Subject: s\r\n\r\n" + b"y" * 100 * 50 + b"\r\n.\r\n")
        assert r == "552 5.3.4 Message size exceeds fixed limit"
        assert c.cmd("NOOP") == "250 2.0.0 Ok"
        time.sleep(0.3)
        assert no_queue_files(inst)
    finally:
        inst.cleanup()


def test_bdat(inst):
    c = Raw(inst.smtp_port)
    c.cmd("EHLO x")
    c.send(b"BDAT 3\r\nabc")
    assert c.reply() == ["503 5.5.1 Error: need MAIL command"]
    c.cmd("MAIL FROM:<s@example.org>")
    c.cmd("RCPT TO:<r@example.test>")
    c.send(b"BDAT 14\r\nSubject: b\r\n\r\n")
    assert c.reply() == ["250 2.0.0 Ok: 14 bytes"]
    assert c.cmd("DATA") == "503 5.5.1 Error: DATA command cannot be mixed with BDAT"
    c.send(b"BDAT 9 LAST\r\nline1\r\nl2")
    qid = queued_id(c.reply()[0])
    assert content_lines(wait_file(inst, qid))[-3:] == ["", "line1", "l2"]


def test_bdat_framing_kept_on_errors(inst):
    c = Raw(inst.smtp_port)
    c.cmd("EHLO x")
    # No transaction: the chunk (which looks like commands) is read and discarded.
    c.send(b"BDAT 23\r\nMAIL FROM:<a@b>\r\nQUIT\r\n")
    assert c.reply() == ["503 5.5.1 Error: need MAIL command"]
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    assert c.cmd("BDAT 1x") == "501 5.5.4 Syntax: BDAT count [LAST]"
    assert c.closed()


def test_client_vanishing_mid_data_leaves_nothing(inst):
    c = Raw(inst.smtp_port)
    c.cmd("EHLO x")
    c.cmd("MAIL FROM:<s@example.org>")
    c.cmd("RCPT TO:<r@example.test>")
    assert c.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    c.send(b"Subject: half\r\n\r\nsome text\r\n")
    time.sleep(0.2)
    c.close()
    inst.wait_log("lost connection after DATA from ")
    inst.wait_log("commands=3/4")  # the disconnect line follows
    assert no_queue_files(inst)
    assert re.search(r"disconnect from \S+\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 data=0/1 "
                     r"commands=3/4$", inst.log(), re.M)


# ---- pipelining --------------------------------------------------------------------------------

def test_pipelined_group_gets_grouped_replies(inst):
    c = Raw(inst.smtp_port)
    c.cmd("EHLO x")
    c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<>\r\nDATA\r\n")
    # All four replies arrive in one segment (flushed together).
    time.sleep(0.3)
    data = c.s.recv(65536)
    assert data == (b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n501 5.1.3 Bad recipient address syntax\r\n"
                    b"354 End data with <CR><LF>.<CR><LF>\r\n")
    c.send(b"x\r\n.\r\nQUIT\r\n")
    assert c.reply()[0].startswith("250 2.0.0 Ok: queued as ")
    assert c.reply() == ["221 2.0.0 Bye"]


def test_talking_before_greeting(inst):
    s = socket.create_connection(("127.0.0.1", inst.smtp_port), timeout=10)
    s.sendall(b"EHLO early\r\n")
    data = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
    assert data == b"554 5.5.0 Error: SMTP protocol synchronization\r\n"
    inst.wait_log("improper command pipelining before greeting from ")


def test_pipelining_after_helo_and_text_before_354(inst):
    c = Raw(inst.smtp_port)
    c.send("HELO x\r\nMAIL FROM:<a@b>\r\n")
    assert c.reply() == ["554 5.5.0 Error: SMTP protocol synchronization"]
    assert c.closed()
    c = Raw(inst.smtp_port)
    c.cmd("EHLO x")
    c.cmd("MAIL FROM:<a@b>")
    c.cmd("RCPT TO:<c@example.test>")
    c.send("DATA\r\nSubject: too early\r\n")
    assert c.reply() == ["554 5.5.0 Error: SMTP protocol synchronization"]
    assert c.closed()
    time.sleep(0.2)
    assert no_queue_files(inst)
    inst.wait_log("improper command pipelining after DATA from ")


# ---- limits ------------------------------------------------------------------------------------

def test_recipient_limit_and_overshoot():
    inst = make_instance({"smtpd_recipient_limit": "2", "smtpd_recipient_overshoot_limit": "1",
                          "smtpd_hard_error_limit": "3"})
    try:
        c = Raw(inst.smtp_port)
        c.cmd("EHLO x")
        c.cmd("MAIL FROM:<a@b>")
        assert c.cmd("RCPT TO:<1@example.test>") == "250 2.1.5 Ok"
        assert c.cmd("RCPT TO:<2@example.test>") == "250 2.1.5 Ok"
        for _ in range(4):
            assert c.cmd("RCPT TO:<3@example.test>") == "452 4.5.3 Error: too many recipients"
        # Overshoot past 1: three errors counted, the hard limit 3 is reached.
        assert c.cmd("NOOP") == "421 4.7.0 mail.example.test Error: too many errors"
        assert c.closed()
        inst.wait_log("too many errors after RCPT from ")
    finally:
        inst.cleanup()


def test_hard_error_limit_and_junk():
    inst = make_instance({"smtpd_hard_error_limit": "2", "smtpd_junk_command_limit": "2"})
    try:
        c = Raw(inst.smtp_port)
        assert c.cmd("NOOP") == "250 2.0.0 Ok"
        assert c.cmd("NOOP") == "250 2.0.0 Ok"
        assert c.cmd("NOOP") == "250 2.0.0 Ok"  # junk 3: error 1
        assert c.cmd("BOGUS") == "500 5.5.2 Error: command not recognized"  # error 2
        assert c.cmd("NOOP") == "421 4.7.0 mail.example.test Error: too many errors"
        assert c.closed()
    finally:
        inst.cleanup()


def test_soft_error_limit_tarpits():
    inst = make_instance({"smtpd_soft_error_limit": "1", "smtpd_error_sleep_time": "1s"})
    try:
        c = Raw(inst.smtp_port)
        t = time.monotonic()
        c.cmd("BOGUS")
        assert time.monotonic() - t < 0.8
        t = time.monotonic()
        assert c.cmd("BOGUS") == "500 5.5.2 Error: command not recognized"
        assert time.monotonic() - t >= 0.9
    finally:
        inst.cleanup()


def test_timeout():
    inst = make_instance({"smtpd_timeout": "1s"})
    try:
        c = Raw(inst.smtp_port)
        c.cmd("EHLO x")
        assert c.reply() == ["421 4.4.2 mail.example.test Error: timeout exceeded"]
        assert c.closed()
        inst.wait_log("timeout after EHLO from ")
    finally:
        inst.cleanup()


def test_port_logging():
    inst = make_instance({"smtpd_client_port_logging": "yes"})
    try:
        c = Raw(inst.smtp_port)
        port = c.s.getsockname()[1]
        c.cmd("QUIT")
        inst.wait_log(f"[127.0.0.1]:{port} quit=1 commands=1")
        assert re.search(rf"connect from \S+\[127\.0\.0\.1\]:{port}$", inst.log(), re.M)
    finally:
        inst.cleanup()
