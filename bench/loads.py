"""The benchmark loads. Each takes a started MTA (bench/mta.py), runs once, checks that every
message really arrived (at the sink or in the Maildir, with an empty queue) and returns a
dict of figures; a load that loses or defers mail raises LoadError, so it never counts."""
import os
import socket
import subprocess
import time

from mta import LOCAL_DOMAIN, RELAY_DOMAIN, wait_for, memory_kb

SENDER = "bench@source.test"


class LoadError(Exception):
    pass


def _settle(mta, timeout):
    """Wait until the MTA's queue is empty (left over from a warm-up or an earlier run)."""
    wait_for(lambda: mta.queue_count() == 0, timeout, what=f"{mta.name} queue to drain")


def _smtp_source(mta, n, sessions, size, rcpt, timeout):
    argv = ["smtp-source", "-s", str(sessions), "-m", str(n), "-l", str(size), "-f", SENDER,
            "-t", rcpt, f"127.0.0.1:{mta.smtp_port}"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _finish_source(proc, deadline):
    try:
        out, _ = proc.communicate(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise LoadError("smtp-source did not finish in time")
    if proc.returncode != 0:
        raise LoadError(f"smtp-source failed ({proc.returncode}): {out[-500:]}")


def _wait_done(mta, count, n, deadline, what):
    try:
        wait_for(lambda: count() >= n and mta.queue_count() == 0,
                 max(1, deadline - time.monotonic()), what=what)
    except TimeoutError:
        raise LoadError(f"{mta.name}: {count()} of {n} {what}, {mta.queue_count()} queued")
    return time.monotonic()


def relay(mta, n, sessions=20, size=2048, timeout=600):
    """smtp-source into the MTA, which relays to smtp-sink; messages/s end to end."""
    _settle(mta, 60)
    mta.start_sink()
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()
    proc = _smtp_source(mta, n, sessions, size, f"user@{RELAY_DOMAIN}", timeout)
    _finish_source(proc, deadline)
    t1 = _wait_done(mta, mta.sink_count, n, deadline, "messages at the sink")
    time.sleep(0.2)
    got = mta.sink_count()
    mta.stop_sink()
    if got != n:
        raise LoadError(f"{mta.name}: the sink counted {got} messages, expected {n}")
    return {"rate": n / (t1 - t0), "seconds": t1 - t0}


def local(mta, n, sessions=20, size=2048, timeout=600):
    """smtp-source into the MTA for one local user; messages/s until all are in new/."""
    _settle(mta, 60)
    mta.clear_maildir()
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()
    proc = _smtp_source(mta, n, sessions, size, f"{mta.recipient_user}@{LOCAL_DOMAIN}", timeout)
    _finish_source(proc, deadline)
    t1 = _wait_done(mta, mta.maildir_count, n, deadline, "messages in the Maildir")
    time.sleep(0.2)
    got = mta.maildir_count()
    if got != n:
        raise LoadError(f"{mta.name}: {got} messages in the Maildir, expected {n}")
    mta.clear_maildir()
    return {"rate": n / (t1 - t0), "seconds": t1 - t0}


def _message_file(mta, size):
    path = mta.root / "submit.eml"
    line = "x" * 78 + "\n"
    body = line * max(1, size // len(line))
    path.write_text(f"From: {SENDER}\nTo: {mta.recipient_user}@{LOCAL_DOMAIN}\n"
                    f"Subject: bench\n\n{body}")
    os.chmod(path, 0o644)
    return path


def submission(mta, m, loops=4, size=2048, timeout=600):
    """m messages through the MTA's own sendmail from `loops` parallel shell loops."""
    _settle(mta, 60)
    mta.clear_maildir()
    msg = _message_file(mta, size)
    prefix, sendmail = mta.submit_command()
    per = [m // loops + (1 if i < m % loops else 0) for i in range(loops)]
    script = ('for i in $(seq "$1"); do "${@:2}" -f ' + SENDER + ' ' +
              f'{mta.recipient_user}@{LOCAL_DOMAIN} < {msg} || exit 1; done')
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()
    procs = [subprocess.Popen(prefix + ["bash", "-c", script, "loop", str(k)] + sendmail,
                              env=mta.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True) for k in per if k]
    for p in procs:
        _finish_source(p, deadline)
    t1 = _wait_done(mta, mta.maildir_count, m, deadline, "messages in the Maildir")
    time.sleep(0.2)
    got = mta.maildir_count()
    if got != m:
        raise LoadError(f"{mta.name}: {got} submitted messages in the Maildir, expected {m}")
    mta.clear_maildir()
    return {"rate": m / (t1 - t0), "seconds": t1 - t0}


def _reply(f):
    """One SMTP reply (all its lines); returns the last line."""
    while True:
        line = f.readline()
        if not line:
            raise LoadError("connection closed")
        if line[3:4] != "-":
            return line


def sessions(mta, k=200, timeout=120):
    """k SMTP sessions held open after EHLO: memory of all the MTA's processes, and how many
    sessions still answer NOOP."""
    _settle(mta, 60)
    idle_rss, idle_pss = memory_kb(mta.pids())
    deadline = time.monotonic() + timeout
    conns = []
    try:
        for i in range(k):
            s = socket.create_connection(("127.0.0.1", mta.smtp_port),
                                         timeout=max(1, deadline - time.monotonic()))
            f = s.makefile("rw", newline="")
            conns.append((s, f))
            if not _reply(f).startswith("220"):
                raise LoadError(f"{mta.name}: no greeting on session {i}")
            f.write(f"EHLO client{i}.source.test\r\n")
            f.flush()
            if not _reply(f).startswith("250"):
                raise LoadError(f"{mta.name}: EHLO refused on session {i}")
        time.sleep(1.0)
        pids = mta.pids()
        rss, pss = memory_kb(pids)
        ok = 0
        for s, f in conns:
            try:
                f.write("NOOP\r\n")
                f.flush()
                ok += _reply(f).startswith("250")
            except (OSError, LoadError):
                pass
    finally:
        for s, f in conns:
            try:
                f.write("QUIT\r\n")
                f.flush()
            except OSError:
                pass
            s.close()
    if ok != k:
        raise LoadError(f"{mta.name}: only {ok} of {k} sessions answered NOOP")
    return {"rss_mb": rss / 1024, "pss_mb": pss / 1024, "procs": len(pids),
            "idle_rss_mb": idle_rss / 1024, "idle_pss_mb": idle_pss / 1024, "noop_ok": ok}
