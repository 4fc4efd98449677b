"""End-to-end tests of the before-queue content filter (smtpd_proxy_filter, SMTPD_PROXY_README):
the public smtpd talks SMTP to a filter (a small SMTP server in a thread of this test), which
adds a header and re-injects into a second smtpd (-o smtpd_proxy_filter=, as re-injection),
or rejects. Asserted: delivery with the filter's header, the filter's replies reaching the
client (sanitised, validated), Postfix's log lines, 451 and nothing queued when the filter is
down or hangs, speed_adjust (no connection to the filter before the message is complete),
RSET/QUIT, XFORWARD, and that every smuggling variant reaches the filter as clean CRLF
content with dot-stuffing, in one transaction."""
import os
import re
import shutil
import smtplib
import socketserver
import tempfile
import threading
import time

import pytest

from conftest import REPO
from instance import Instance, free_port, wait_for
from test_smtpd_protocol import Raw

FILTER_REPLIES = {
    b"REJECT-ME": b"550 5.7.1 Message content rejected\r\n",
    b"MULTI-LINE": b"550-5.7.1 first line\r\n550 5.7.1 second line\r\n",
    b"CR-IN-REPLY": b"550 5.7.1 bad\rInjected: yes\r\n",
    b"GARBAGE-REPLY": b"250-ok\r\n251 mismatched code\r\n",
    b"MORE-AT-DOT": b"354 more, please\r\n",
}


class FilterSession(socketserver.StreamRequestHandler):
    """One SMTP session of the test filter: records what it receives, then re-injects."""

    def reply(self, text):
        self.wfile.write(text if isinstance(text, bytes) else text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        try:
            self.session()
        except ConnectionError:
            pass  # smtpd closes right after QUIT without waiting for the 221, as Postfix does

    def session(self):
        f = self.server.owner
        rec = {"commands": [], "data": None, "raw": None}
        with f.lock:
            f.sessions.append(rec)
        self.reply("220 filter.test ESMTP test filter")
        mail, rcpts = None, []
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            rec["commands"].append(line)
            cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-filter.test\r\n250-XFORWARD NAME ADDR PROTO HELO SOURCE PORT"
                           "\r\n250-8BITMIME\r\n250 DSN")
            elif verb == "MAIL":
                mail, rcpts = re.match(r"MAIL FROM:<([^>]*)>", cmd).group(1), []
                self.reply("250 2.1.0 Ok")
            elif verb == "DATA" and mail.startswith("nodata@"):
                self.reply("554 5.5.1 Error: no DATA for you")
            elif verb == "RCPT":
                addr = re.match(r"RCPT TO:<([^>]*)>", cmd).group(1)
                if addr.startswith("unknown@"):
                    self.reply(f"550 5.1.1 <{addr}>: Recipient unknown to the filter")
                else:
                    rcpts.append(addr)
                    self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                raw = b""
                while True:
                    chunk = self.rfile.readline(1 << 20)
                    if not chunk:
                        return
                    if chunk == b".\r\n":
                        break
                    raw += chunk
                rec["raw"] = raw
                data = re.sub(rb"(?m)^\.", b"", raw)  # undo dot-stuffing (lines end in CRLF)
                rec["data"] = data
                self.end_of_data(mail, rcpts, data)
            elif verb in ("RSET", "NOOP", "XFORWARD"):
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")

    def end_of_data(self, mail, rcpts, data):
        f = self.server.owner
        if b"HANG-AT-DOT" in data:
            f.hung.wait(15)
            return
        for marker, reply in FILTER_REPLIES.items():
            if marker in data:
                self.reply(reply)
                return
        try:
            with smtplib.SMTP("127.0.0.1", f.downstream, timeout=10) as s:
                s.ehlo("filter.test")
                s.mail(mail)
                for r in rcpts:
                    s.rcpt(r)
                code, text = s.data(b"X-Filtered: yes, by the test filter\r\n" + data)
        except smtplib.SMTPResponseException as e:
            code, text = e.smtp_code, e.smtp_error
        self.reply(f"{code} {text.decode()}")


class Filter:
    """The test filter on 127.0.0.1 (a free port), or on a unix socket at path."""

    def __init__(self, downstream, path=None):
        self.downstream = downstream
        self.sessions = []
        self.lock = threading.Lock()
        self.hung = threading.Event()
        if path:
            self.server = socketserver.ThreadingUnixStreamServer(str(path), FilterSession)
            os.chmod(path, 0o666)  # smtpd runs as the instance user
        else:
            socketserver.ThreadingTCPServer.allow_reuse_address = True
            self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), FilterSession)
            self.port = self.server.server_address[1]
        self.server.daemon_threads = True
        self.server.owner = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self):
        with self.lock:
            return len(self.sessions)

    def last(self):
        with self.lock:
            return self.sessions[-1]

    def stop(self):
        self.hung.set()
        self.server.shutdown()
        self.server.server_close()


class Setup:
    pass


@pytest.fixture(scope="module")
def env():
    inst = Instance("proxy", main_cf={
        "mydestination": "localhost, $myhostname", "local_recipient_maps": "",
        "mynetworks": "127.0.0.0/8", "smtpd_error_sleep_time": "0",
        "recipient_delimiter": "+"})
    e = Setup()
    e.inst = inst
    # The filters bind first, so that no port picked below can be taken by them.
    e.filter = Filter(None)
    e.sockdir = tempfile.mkdtemp(prefix="proxy-filter-")
    os.chmod(e.sockdir, 0o755)
    e.unix_filter = Filter(None, path=os.path.join(e.sockdir, "filter"))
    ports = {inst.smtp_port}
    while len(ports) < 7:
        ports.add(free_port())
    ports.discard(inst.smtp_port)
    e.reinject, e.speed, e.dead, e.dead_early, e.dead_filter, e.unix = sorted(ports)
    e.filter.downstream = e.unix_filter.downstream = e.reinject  # nothing listens on dead_filter
    try:
        text = (REPO / "conf" / "master.cf").read_text().replace(
            "smtp      inet  n       -       n       -       -       smtpd",
            f"127.0.0.1:{inst.smtp_port} inet n - n - - smtpd\n"
            f"  -o smtpd_proxy_filter=127.0.0.1:{e.filter.port} -o smtpd_proxy_timeout=3s\n"
            f"127.0.0.1:{e.speed} inet n - n - - smtpd\n"
            f"  -o smtpd_proxy_filter=inet:127.0.0.1:{e.filter.port}\n"
            f"  -o smtpd_proxy_options=speed_adjust -o smtpd_proxy_timeout=3s\n"
            f"127.0.0.1:{e.dead} inet n - n - - smtpd\n"
            f"  -o smtpd_proxy_filter=127.0.0.1:{e.dead_filter}\n"
            f"127.0.0.1:{e.dead_early} inet n - n - - smtpd\n"
            f"  -o smtpd_proxy_filter=127.0.0.1:{e.dead_filter}\n"
            f"  -o smtpd_delay_open_until_valid_rcpt=no\n"
            f"127.0.0.1:{e.unix} inet n - n - - smtpd\n"
            f"  -o smtpd_proxy_filter=unix:{e.sockdir}/filter\n"
            f"127.0.0.1:{e.reinject} inet n - n - - smtpd -o smtpd_proxy_filter=\n", 1)
        assert f"127.0.0.1:{e.reinject}" in text
        inst.write_master_cf(text)
        inst.start_master()
        yield e
    finally:
        e.filter.stop()
        e.unix_filter.stop()
        inst.cleanup()
        shutil.rmtree(e.sockdir, ignore_errors=True)


def mailbox(e):
    box = e.inst.mail / e.inst.user
    return box.read_bytes().decode("utf-8", "replace") if box.exists() else ""


def queued(e):
    """Queue files anywhere in the spool (waiting ones, not yet delivered)."""
    out = []
    for d in ("maildrop", "incoming", "active", "deferred", "hold"):
        p = e.inst.spool / d
        if p.exists():
            out += [f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")]
    return out


def dialogue(port, rcpts, body, helo="client.example"):
    """A whole transaction; returns (client, final reply)."""
    c = Raw(port)
    c.cmd(f"EHLO {helo}")
    assert c.cmd("MAIL FROM:<sender@example.org>") == "250 2.1.0 Ok"
    for r in rcpts:
        assert c.cmd(f"RCPT TO:<{r}>") == "250 2.1.5 Ok"
    assert c.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    c.send(body)
    r = c.reply()
    return c, r[0] if len(r) == 1 else r


def test_filtered_mail_is_delivered_with_the_filters_header(env):
    e = env
    before = e.filter.count()
    to = f"{e.inst.user}@localhost"
    c, r = dialogue(e.inst.smtp_port, [to], b"Subject: through the filter\r\n\r\nhello\r\n.\r\n")
    m = re.fullmatch(r"250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)", r)
    assert m, r  # the downstream smtpd's reply, relayed by the filter and by us
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    wait_for(lambda: "Subject: through the filter" in mailbox(e), 20, what="delivery")
    box = mailbox(e)
    assert box.count("X-Filtered: yes, by the test filter") == 1
    # Our Received header (no queue ID: there is no queue file here), then the re-injection's.
    assert re.search(r"Received: from client\.example \(\S+ \[127\.0\.0\.1\]\)\n"
                     r"\tby mail\.example\.test \(Kestrel\) with ESMTP\n\tfor <", box), box
    assert e.filter.count() == before + 1
    wait_for(lambda: e.filter.last()["commands"][-1:] == [b"QUIT\r\n"], 5, what="QUIT")
    cmds = [x.decode() for x in e.filter.last()["commands"]]
    assert cmds[0] == "EHLO mail.example.test\r\n"  # smtpd_proxy_ehlo = $myhostname
    assert cmds[1].startswith("XFORWARD ") and "ADDR=127.0.0.1" in cmds[1]
    assert "HELO=client.example" in cmds[1] and "PROTO=ESMTP" in cmds[1]
    assert "SOURCE=REMOTE" in cmds[1]
    assert cmds[2] == "MAIL FROM:<sender@example.org>\r\n"
    assert cmds[3] == f"RCPT TO:<{to}>\r\n"
    assert cmds[4] == "DATA\r\n"
    assert cmds[-1] == "QUIT\r\n" and "RSET\r\n" not in cmds  # a finished transaction
    e.inst.wait_log(f"proxy-accept: END-OF-MESSAGE: 250 2.0.0 Ok: queued as {m.group(1)};")
    assert re.search(r"smtpd\[\d+\]: proxy-accept: END-OF-MESSAGE: 250 2\.0\.0 Ok: queued as "
                     + m.group(1) + r"; from=<sender@example\.org> to=<" + re.escape(to) +
                     r"> proto=ESMTP helo=<client\.example>$", e.inst.log(), re.M)
    assert re.search(r"smtpd\[\d+\]: NOQUEUE: client=\S+\[127\.0\.0\.1\]$",
                     e.inst.log(), re.M)


def test_esmtp_parameters_are_relayed(env):
    e = env
    c = Raw(e.inst.smtp_port)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<sender@example.org> SIZE=100 BODY=8BITMIME RET=HDRS "
                 "ENVID=abc+2Bdef") == "250 2.1.0 Ok"
    assert c.cmd(f"RCPT TO:<{e.inst.user}@localhost> NOTIFY=SUCCESS,FAILURE "
                 f"ORCPT=rfc822;orig+2Bx@example.org") == "250 2.1.5 Ok"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    wait_for(lambda: any(x.startswith(b"QUIT") for x in e.filter.last()["commands"]), 5,
             what="the filter session to end")
    cmds = [x.decode() for x in e.filter.last()["commands"]]
    assert "MAIL FROM:<sender@example.org> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=abc+2Bdef\r\n" \
        in cmds
    assert (f"RCPT TO:<{e.inst.user}@localhost> NOTIFY=SUCCESS,FAILURE "
            "ORCPT=rfc822;orig+2Bx@example.org\r\n") in cmds
    assert cmds[-2:] == ["RSET\r\n", "QUIT\r\n"]  # the transaction was never finished


def test_filter_reject_reaches_the_client_and_is_logged(env):
    e = env
    c, r = dialogue(e.inst.smtp_port, ["someone@localhost"],
                    b"Subject: bad\r\n\r\nREJECT-ME\r\n.\r\n")
    assert r == "550 5.7.1 Message content rejected"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"  # the session goes on
    c.cmd("QUIT")
    e.inst.wait_log("proxy-reject: END-OF-MESSAGE: 550 5.7.1 Message content rejected; "
                    "from=<sender@example.org> to=<someone@localhost> proto=ESMTP "
                    "helo=<client.example>")
    assert "REJECT-ME" not in mailbox(e)


def test_filter_rcpt_reject_is_relayed(env):
    e = env
    c = Raw(e.inst.smtp_port)
    c.cmd("EHLO client.example")
    c.cmd("MAIL FROM:<sender@example.org>")
    assert c.cmd("RCPT TO:<unknown@localhost>") == \
        "550 5.1.1 <unknown@localhost>: Recipient unknown to the filter"
    assert c.cmd("RCPT TO:<ok@localhost>") == "250 2.1.5 Ok"
    c.cmd("QUIT")
    e.inst.wait_log(f'warning: proxy 127.0.0.1:{e.filter.port} rejected '
                    f'"RCPT TO:<unknown@localhost>": "550 5.1.1 <unknown@localhost>: '
                    f'Recipient unknown to the filter"')


@pytest.mark.parametrize("marker,want", [
    (b"MULTI-LINE", ["550-5.7.1 first line", "550 5.7.1 second line"]),
    (b"CR-IN-REPLY", "550 5.7.1 bad?Injected: yes"),
    (b"GARBAGE-REPLY", "451 4.3.0 Error: queue file write error"),
    (b"MORE-AT-DOT", "451 4.3.0 Error: queue file write error"),
])
def test_filter_replies_are_validated_and_sanitised(env, marker, want):
    e = env
    c, r = dialogue(e.inst.smtp_port, ["x@localhost"], b"Subject: r\r\n\r\n" + marker +
                    b"\r\n.\r\n")
    assert r == want
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    if marker == b"GARBAGE-REPLY":
        e.inst.wait_log(f"warning: received garbage from proxy 127.0.0.1:{e.filter.port}")
    if marker == b"MORE-AT-DOT":
        e.inst.wait_log(f'warning: proxy 127.0.0.1:{e.filter.port} rejected ".": '
                        f'"354 more, please"')


def test_filter_down_gives_451_and_nothing_is_queued(env):
    e = env
    cleanup_lines = e.inst.log().count("postfix/cleanup")
    c = Raw(e.dead)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<sender@example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<a@localhost>") == "451 4.3.0 Error: queue file write error"
    assert c.cmd("DATA") == "503 5.5.1 Error: need RCPT command"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    e.inst.wait_log(f"warning: connect to proxy filter 127.0.0.1:{e.dead_filter}: "
                    "Connection refused")
    time.sleep(0.3)
    assert e.inst.log().count("postfix/cleanup") == cleanup_lines
    assert not any(p.parent.name == "incoming" for p in queued(e))


def test_filter_down_at_mail_without_delayed_open(env):
    e = env
    c = Raw(e.dead_early)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<sender@example.org>") == "451 4.3.0 Error: queue file write error"
    assert c.cmd("RCPT TO:<a@localhost>") == "503 5.5.1 Error: need MAIL command"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    e.inst.wait_log(f"warning: connect to proxy filter 127.0.0.1:{e.dead_filter}: "
                    "Connection refused")


def test_unix_socket_filter(env):
    e = env
    to = f"{e.inst.user}@localhost"
    c, r = dialogue(e.unix, [to], b"Subject: over a unix socket\r\n\r\nhi\r\n.\r\n")
    assert re.fullmatch(r"250 2\.0\.0 Ok: queued as [0-9A-Za-z]+", r), r
    c.cmd("QUIT")
    assert e.unix_filter.count() == 1
    wait_for(lambda: "Subject: over a unix socket" in mailbox(e), 20, what="delivery")
    part = mailbox(e).split("Subject: over a unix socket")[0].rsplit("\nFrom ", 1)[-1]
    assert "X-Filtered: yes, by the test filter" in part


def test_filter_refusing_data(env):
    e = env
    c = Raw(e.inst.smtp_port)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<nodata@example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<a@localhost>") == "250 2.1.5 Ok"
    assert c.cmd("DATA") == "554 5.5.1 Error: no DATA for you"  # no 354: the filter said no
    assert c.cmd("RSET") == "250 2.0.0 Ok"
    assert c.cmd("MAIL FROM:<nodata@example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<a@localhost>") == "250 2.1.5 Ok"
    c.send(b"BDAT 5 LAST\r\nhello")
    assert c.reply() == ["554 5.5.1 Error: no DATA for you"]
    assert c.cmd("NOOP") == "250 2.0.0 Ok"  # the BDAT framing was kept
    c.cmd("QUIT")
    e.inst.wait_log(f'warning: proxy 127.0.0.1:{e.filter.port} rejected "DATA": '
                    f'"554 5.5.1 Error: no DATA for you"')


def test_bdat_goes_to_the_filter_as_data(env):
    e = env
    to = f"{e.inst.user}@localhost"
    c = Raw(e.inst.smtp_port)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<sender@example.org>") == "250 2.1.0 Ok"
    assert c.cmd(f"RCPT TO:<{to}>") == "250 2.1.5 Ok"
    first = b"Subject: chunked\r\n\r\n.leading dot\r"
    c.send(b"BDAT %d\r\n" % len(first) + first)
    assert c.reply() == [f"250 2.0.0 Ok: {len(first)} bytes"]
    c.send(b"BDAT 9 LAST\r\n\nend\r\n.\r\n")
    r = c.reply()[0]
    assert re.fullmatch(r"250 2\.0\.0 Ok: queued as [0-9A-Za-z]+", r), r
    c.cmd("QUIT")
    raw = e.filter.last()["raw"]
    assert raw.endswith(b"\r\n\r\n..leading dot\r\nend\r\n..\r\n")
    wait_for(lambda: "Subject: chunked" in mailbox(e), 20, what="delivery")


def test_filter_timeout_gives_451(env):
    e = env
    t0 = time.monotonic()
    c, r = dialogue(e.inst.smtp_port, ["x@localhost"], b"Subject: slow\r\n\r\nHANG-AT-DOT\r\n.\r\n")
    assert r == "451 4.3.0 Error: queue file write error"
    assert 2 <= time.monotonic() - t0 < 10  # smtpd_proxy_timeout = 3s
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    e.inst.wait_log(f"warning: timeout talking to proxy 127.0.0.1:{e.filter.port}")
    e.inst.wait_log("proxy-reject: END-OF-MESSAGE: 451 4.3.0 Error: queue file write error; "
                    "from=<sender@example.org> to=<x@localhost>")


def test_speed_adjust_connects_only_after_the_message(env):
    e = env
    to = f"{e.inst.user}@localhost"
    before = e.filter.count()
    c = Raw(e.speed)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<sender@example.org>") == "250 2.1.0 Ok"
    assert c.cmd(f"RCPT TO:<{to}>") == "250 2.1.5 Ok"
    assert c.cmd(f"RCPT TO:<{e.inst.user}+two@localhost>") == "250 2.1.5 Ok"
    assert c.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    c.send(b"Subject: speed adjusted\r\n\r\n..dot line\r\n")
    time.sleep(0.5)
    assert e.filter.count() == before  # nothing yet: the message is not complete
    c.send(b".\r\n")
    r = c.reply()[0]
    assert re.fullmatch(r"250 2\.0\.0 Ok: queued as [0-9A-Za-z]+", r), r
    assert e.filter.count() == before + 1
    wait_for(lambda: "Subject: speed adjusted" in mailbox(e), 20, what="delivery")
    assert "\n.dot line\n" in mailbox(e)
    cmds = [x.decode() for x in e.filter.last()["commands"]]
    assert cmds[0] == "EHLO mail.example.test\r\n"
    assert f"RCPT TO:<{to}>\r\n" in cmds and f"RCPT TO:<{e.inst.user}+two@localhost>\r\n" in cmds
    assert b"\r\n..dot line\r\n" in e.filter.last()["raw"]
    # A recipient the filter refuses in the replay fails the message, with the filter's reply.
    assert c.cmd("MAIL FROM:<sender@example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<unknown@localhost>") == "250 2.1.5 Ok"
    assert c.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    c.send(b"Subject: x\r\n\r\nbody\r\n.\r\n")
    assert c.reply() == ["550 5.1.1 <unknown@localhost>: Recipient unknown to the filter"]
    # And a content reject.
    assert c.cmd("MAIL FROM:<sender@example.org>") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<y@localhost>") == "250 2.1.5 Ok"
    assert c.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    c.send(b"Subject: x\r\n\r\nREJECT-ME\r\n.\r\n")
    assert c.reply() == ["550 5.7.1 Message content rejected"]
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    e.inst.wait_log("proxy-reject: END-OF-MESSAGE: 550 5.1.1 <unknown@localhost>: Recipient "
                    "unknown to the filter; from=<sender@example.org> to=<unknown@localhost>")
    e.inst.wait_log("proxy-reject: END-OF-MESSAGE: 550 5.7.1 Message content rejected; "
                    "from=<sender@example.org> to=<y@localhost>")
    # The replay file is unlinked: nothing of it is left in incoming/.
    assert not any(p.parent.name == "incoming" and p.name.startswith(".proxy")
                   for p in (e.inst.spool / "incoming").iterdir())


def test_rset_is_relayed_and_the_connection_closed(env):
    e = env
    before = e.filter.count()
    c = Raw(e.inst.smtp_port)
    c.cmd("EHLO client.example")
    c.cmd("MAIL FROM:<sender@example.org>")
    assert c.cmd("RCPT TO:<a@localhost>") == "250 2.1.5 Ok"
    assert c.cmd("RSET") == "250 2.0.0 Ok"
    wait_for(lambda: e.filter.count() == before + 1 and
             e.filter.last()["commands"][-1:] == [b"QUIT\r\n"], 5, what="QUIT at the filter")
    assert [x.decode() for x in e.filter.last()["commands"][-3:]] == \
        ["RCPT TO:<a@localhost>\r\n", "RSET\r\n", "QUIT\r\n"]
    # The next transaction opens a new filter connection.
    c.cmd("MAIL FROM:<sender@example.org>")
    assert c.cmd("RCPT TO:<b@localhost>") == "250 2.1.5 Ok"
    assert e.filter.count() == before + 2
    c.cmd("QUIT")


@pytest.mark.parametrize("port_name", ["public", "speed"])
@pytest.mark.parametrize("variant", [b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\n", b"\r.\r\n"])
def test_smuggling_variants_reach_the_filter_as_one_clean_message(env, variant, port_name):
    e = env
    port = e.inst.smtp_port if port_name == "public" else e.speed
    to = f"{e.inst.user}@localhost"
    before = e.filter.count()
    tag = f"smuggle-{port_name}-{variant.hex()}"
    body = (b"Subject: " + tag.encode() + b"\r\n\r\nfirst" + variant +
            b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@localhost>\r\nDATA\r\n"
            b"Subject: smuggled\r\n\r\n..dotted\r\n.\r\n")
    c, r = dialogue(port, [to], body)
    assert re.fullmatch(r"250 2\.0\.0 Ok: queued as [0-9A-Za-z]+", r), r
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    assert e.filter.count() == before + 1
    s = e.filter.last()
    raw = s["raw"]
    # Clean CRLF: no CR or LF outside a CRLF pair, and no line is a lone "." (dot-stuffed).
    assert b"\r" not in raw.replace(b"\r\n", b"") and b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r\n.\r\n" not in raw and not raw.startswith(b".\r\n")
    assert b"\r\n..dotted\r\n" in raw
    assert b"MAIL FROM:<evil@example.org>\r\n" in raw  # content, not a command
    mails = [x for x in s["commands"] if x.upper().startswith(b"MAIL")]
    assert mails == [b"MAIL FROM:<sender@example.org>\r\n"]
    wait_for(lambda: tag in mailbox(e), 20, what="delivery")
    box = mailbox(e)
    start = box.index(tag)
    assert "Subject: smuggled" in box[start:] and "\n.dotted\n" in box[start:]
    assert not (e.inst.mail / "victim").exists()
