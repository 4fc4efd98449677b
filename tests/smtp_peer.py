"""A scripted SMTP server for the smtp client tests: loopback only, one thread per session.
It answers RCPT per recipient from a script (a reply line, "close" to drop the connection, or
the default 250), records every chunk of bytes as it arrived (to see PIPELINING groups), the
number of sessions, and each message's envelope and exact DATA bytes (DATA that the client
abandoned before the final "." is kept apart, in aborted)."""
import socket
import threading


class Peer:
    def __init__(self, ehlo=("PIPELINING", "SIZE 10000000", "8BITMIME", "DSN",
                             "ENHANCEDSTATUSCODES"), rcpt_script=None, greeting="220 peer.test ESMTP",
                 port=0):
        self.ehlo = list(ehlo)
        self.rcpt_script = rcpt_script or {}
        self.greeting = greeting
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.sessions = 0
        self.chunks = []
        self.commands = []
        self.messages = []  # (mail_from, [rcpts], data bytes)
        self.aborted = []  # DATA bytes of transactions the client dropped before the "."
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def close(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()

    def _accept(self):
        while self.running:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            with self.lock:
                self.sessions += 1
            threading.Thread(target=self._session, args=(c,), daemon=True).start()

    def _session(self, c):
        c.settimeout(30)
        buf = b""
        state = {"from": None, "rcpts": []}

        def lines():
            nonlocal buf
            while True:
                while b"\r\n" in buf:
                    line, buf = buf.split(b"\r\n", 1)
                    yield line
                data = c.recv(65536)
                if not data:
                    return
                with self.lock:
                    self.chunks.append(data)
                buf += data

        def send(text):
            c.sendall(text.encode() + b"\r\n")

        try:
            send(self.greeting)
            it = lines()
            for raw in it:
                line = raw.decode("utf-8", "replace")
                with self.lock:
                    self.commands.append(line)
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "LHLO"):
                    out = ["peer.test"] + self.ehlo
                    send("\r\n".join(f"250{'-' if i < len(out) - 1 else ' '}{t}"
                                     for i, t in enumerate(out)))
                elif verb == "HELO":
                    send("250 peer.test")
                elif verb == "MAIL":
                    state = {"from": line[10:].split(">")[0].lstrip("<"), "rcpts": []}
                    send("250 2.1.0 Ok")
                elif verb == "RCPT":
                    addr = line[8:].split(">")[0].lstrip("<")
                    reply = self.rcpt_script.get(addr, "250 2.1.5 Ok")
                    if reply == "close":
                        return
                    if reply.startswith("2"):
                        state["rcpts"].append(addr)
                    send(reply)
                    if reply.startswith("421"):
                        return
                elif verb == "DATA":
                    if not state["rcpts"]:
                        send("554 5.5.1 Error: no valid recipients")
                        continue
                    send("354 End data with <CR><LF>.<CR><LF>")
                    data, ended = b"", False
                    for body_line in it:
                        if body_line == b".":
                            ended = True
                            break
                        data += body_line + b"\r\n"
                    if not ended:  # the client gave up: nothing was accepted
                        with self.lock:
                            self.aborted.append(data)
                        return
                    with self.lock:
                        n = len(self.messages)
                        self.messages.append((state["from"], state["rcpts"], data))
                    send(f"250 2.0.0 Ok: queued as PEER{n}")
                elif verb == "RSET":
                    state = {"from": None, "rcpts": []}
                    send("250 2.0.0 Ok")
                elif verb == "QUIT":
                    send("221 2.0.0 Bye")
                    return
                else:
                    send("502 5.5.2 Error: command not recognized")
        except OSError:
            pass
        finally:
            c.close()
