"""End-to-end tests for postmap: building, querying, listing, updating and deleting tables."""
import os
import stat

import pytest

from conftest import run


def write(path, text, mode="w"):
    with open(path, mode) as f:
        f.write(text)
    return str(path)


SENDER_ACCESS = """\
# sender_access, as in the restriction-class tutorials
spammer@example.com     REJECT
example.net             REJECT Go away
  and stay away
friend@example.net      OK
Mixed.Case.ORG          OK
"""


@pytest.fixture
def access(tmp_path, config_dir):
    src = write(tmp_path / "sender_access", SENDER_ACCESS)
    r = run(["postmap", src], config_dir=config_dir)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    return src


def test_build_and_query(access, config_dir):
    assert os.path.exists(access + ".db")
    r = run(["postmap", "-q", "spammer@example.com", access], config_dir=config_dir)
    assert (r.returncode, r.stdout) == (0, "REJECT\n")
    r = run(["postmap", "-q", "friend@example.net", "hash:" + access], config_dir=config_dir)
    assert (r.returncode, r.stdout) == (0, "OK\n")
    r = run(["postmap", "-q", "example.net", access], config_dir=config_dir)
    assert r.stdout == "REJECT Go away  and stay away\n"
    r = run(["postmap", "-q", "MIXED.case.org", access], config_dir=config_dir)
    assert (r.returncode, r.stdout) == (0, "OK\n")
    r = run(["postmap", "-q", "nobody@example.org", access], config_dir=config_dir)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "")


def test_query_stdin(access, config_dir):
    r = run(["postmap", "-q", "-", access], config_dir=config_dir,
            input="spammer@example.com\nunknown\nfriend@example.net\n")
    assert r.returncode == 0
    assert r.stdout == "spammer@example.com\tREJECT\nfriend@example.net\tOK\n"
    r = run(["postmap", "-q", "-", access], config_dir=config_dir, input="a\nb\n")
    assert (r.returncode, r.stdout) == (1, "")


def test_dump(access, config_dir):
    r = run(["postmap", "-s", access], config_dir=config_dir)
    assert r.returncode == 0
    assert sorted(r.stdout.splitlines()) == sorted([
        "spammer@example.com\tREJECT",
        "example.net\tREJECT Go away  and stay away",
        "friend@example.net\tOK",
        "mixed.case.org\tOK",
    ])


def test_delete(access, config_dir):
    r = run(["postmap", "-d", "spammer@example.com", access], config_dir=config_dir)
    assert r.returncode == 0
    r = run(["postmap", "-q", "spammer@example.com", access], config_dir=config_dir)
    assert r.returncode == 1
    r = run(["postmap", "-d", "spammer@example.com", access], config_dir=config_dir)
    assert r.returncode == 1
    r = run(["postmap", "-d", "-", access], config_dir=config_dir,
            input="friend@example.net\nmixed.case.org\n")
    assert r.returncode == 0
    r = run(["postmap", "-s", access], config_dir=config_dir)
    assert r.stdout == "example.net\tREJECT Go away  and stay away\n"
    # Deleting from a table that does not exist does not create it.
    r = run(["postmap", "-d", "x", access + "-none"], config_dir=config_dir)
    assert r.returncode == 1
    assert r.stderr == f"postmap: fatal: open database {access}-none.db: No such file or directory\n"
    assert not os.path.exists(access + "-none.db")


def test_incremental(access, config_dir):
    r = run(["postmap", "-i", access], config_dir=config_dir,
            input="new@example.com OK\nspammer@example.com DUNNO\n")
    assert r.returncode == 0
    assert r.stderr == 'postmap: warning: -, line 2: duplicate entry: "spammer@example.com"\n'
    assert run(["postmap", "-q", "new@example.com", access], config_dir=config_dir).stdout == "OK\n"
    assert run(["postmap", "-q", "spammer@example.com", access],
               config_dir=config_dir).stdout == "REJECT\n"
    r = run(["postmap", "-i", "-r", access], config_dir=config_dir,
            input="spammer@example.com DUNNO\n")
    assert (r.returncode, r.stderr) == (0, "")
    assert run(["postmap", "-q", "spammer@example.com", access],
               config_dir=config_dir).stdout == "DUNNO\n"


def test_duplicates(tmp_path, config_dir):
    src = write(tmp_path / "access", "a 1\nb 2\nA 3\nbad\n")
    r = run(["postmap", src], config_dir=config_dir)
    assert r.returncode == 0
    assert r.stderr == (f'postmap: warning: {src}, line 3: duplicate entry: "a"\n'
                        f"postmap: warning: {src}, line 4: expected format: key whitespace value\n")
    assert run(["postmap", "-q", "a", src], config_dir=config_dir).stdout == "1\n"
    r = run(["postmap", "-w", src], config_dir=config_dir)
    assert r.stderr == f"postmap: warning: {src}, line 4: expected format: key whitespace value\n"
    r = run(["postmap", "-r", src], config_dir=config_dir)
    assert "duplicate entry" not in r.stderr
    assert run(["postmap", "-q", "a", src], config_dir=config_dir).stdout == "3\n"


def test_no_fold(tmp_path, config_dir):
    src = write(tmp_path / "access", "MiXed value\n")
    assert run(["postmap", "-f", src], config_dir=config_dir).returncode == 0
    assert run(["postmap", "-f", "-q", "MiXed", src], config_dir=config_dir).stdout == "value\n"
    assert run(["postmap", "-f", "-q", "mixed", src], config_dir=config_dir).returncode == 1


def test_error_keeps_old_table(access, config_dir):
    before = open(access + ".db", "rb").read()
    write(access, "good OK\nbad\0key REJECT\n")
    r = run(["postmap", access], config_dir=config_dir)
    assert r.returncode == 1
    assert r.stderr == f"postmap: fatal: {access}, line 2: NUL byte in input\n"
    assert open(access + ".db", "rb").read() == before
    assert run(["postmap", "-q", "spammer@example.com", access],
               config_dir=config_dir).stdout == "REJECT\n"
    assert [f for f in os.listdir(os.path.dirname(access)) if "tmp" in f] == []
    os.unlink(access)
    r = run(["postmap", access], config_dir=config_dir)
    assert r.returncode == 1
    assert r.stderr == f"postmap: fatal: open {access}: No such file or directory\n"
    assert open(access + ".db", "rb").read() == before


def test_permissions(tmp_path, config_dir):
    src = write(tmp_path / "access", "a b\n")
    os.chmod(src, 0o640)
    assert run(["postmap", src], config_dir=config_dir).returncode == 0
    assert stat.S_IMODE(os.stat(src + ".db").st_mode) == 0o640
    src2 = write(tmp_path / "access2", "a b\n")
    os.chmod(src2, 0o600)
    assert run(["postmap", "-p", src2], config_dir=config_dir).returncode == 0
    assert stat.S_IMODE(os.stat(src2 + ".db").st_mode) == 0o644
    # An existing table keeps its own mode on a rebuild.
    os.chmod(src + ".db", 0o600)
    assert run(["postmap", src], config_dir=config_dir).returncode == 0
    assert stat.S_IMODE(os.stat(src + ".db").st_mode) == 0o600


def test_every_type(tmp_path, config_dir):
    src = write(tmp_path / "map", "key value\n")
    assert run(["postmap", "btree:" + src], config_dir=config_dir).returncode == 0
    cidr = write(tmp_path / "cidr", "10.0.0.0/8 REJECT\n1.2.3.0/24 OK\n2001:db8::/32 V6\n")
    pcre = write(tmp_path / "pcre", "/^(.+)@example\\.com$/ local $1\n")
    regexp = write(tmp_path / "regexp", "if /@/\n/^([^@]+)@spam\\./ REJECT $1\nendif\n")
    env = {"KESTREL_T": "from env"}
    cases = [
        ("hash:" + str(tmp_path / "missing"), "x", 1, None),
        ("btree:" + src, "KEY", 0, "value"),
        ("texthash:" + src, "key", 0, "value"),
        ("cidr:" + cidr, "1.2.3.4", 0, "OK"),
        ("cidr:" + cidr, "10.9.8.7", 0, "REJECT"),
        ("cidr:" + cidr, "2001:db8::1", 0, "V6"),
        ("cidr:" + cidr, "11.0.0.1", 1, ""),
        ("pcre:" + pcre, "Joe@Example.com", 0, "local Joe"),
        ("regexp:" + regexp, "bob@spam.net", 0, "REJECT bob"),
        ("regexp:" + regexp, "bob", 1, ""),
        ("inline:{k=v, {k2 = a b}}", "k2", 0, "a b"),
        ("static:fixed", "anything", 0, "fixed"),
        ("environ:", "KESTREL_T", 0, "from env"),
        ("unix:passwd.byname", "root", 0, None),
        ("unionmap:{inline:{k=1}, texthash:%s}" % src, "k", 0, "1"),
        ("unionmap:{inline:{key=1}, texthash:%s}" % src, "key", 0, "1,value"),
        ("pipemap:{inline:{a=key}, texthash:%s}" % src, "a", 0, "value"),
    ]
    for spec, key, status, value in cases:
        r = run(["postmap", "-q", key, spec], config_dir=config_dir, env=env)
        if status == 1 and spec.startswith("hash:"):
            assert r.returncode == 1 and "No such file or directory" in r.stderr, spec
            continue
        assert r.returncode == status, (spec, r.stderr)
        if value is not None:
            assert r.stdout == (value + "\n" if status == 0 else ""), spec
    r = run(["postmap", "-q", "root", "unix:passwd.byname"], config_dir=config_dir)
    assert r.stdout.startswith("root:") and r.stdout.count(":") == 6


def test_bad_tables(tmp_path, config_dir):
    bad = write(tmp_path / "bad.pcre", "/ok/ OK\n/(unclosed/ REJECT\n")
    r = run(["postmap", "-q", "x", "pcre:" + bad], config_dir=config_dir)
    assert r.returncode == 1
    assert r.stderr.startswith(f"postmap: fatal: {bad}, line 2: pcre \"(unclosed\": ")
    r = run(["postmap", "-q", "x", "nosuch:" + bad], config_dir=config_dir)
    assert r.stderr == "postmap: fatal: unsupported dictionary type: nosuch\n"
    r = run(["postmap", "cidr:" + bad], config_dir=config_dir)
    assert r.returncode == 1
    assert "unsupported dictionary type for building: cidr" in r.stderr
    r = run(["postmap"], config_dir=config_dir)
    assert r.returncode == 1 and "usage: postmap" in r.stderr


def test_message_query(tmp_path, config_dir):
    rules = write(tmp_path / "checks", "/^Subject: .*win/ REJECT header\n/^buy now/ REJECT body\n")
    msg = "From: a@b\nSubject: you win\n big\nTo: c@d\n\nhello\nbuy now\n"
    r = run(["postmap", "-h", "-q", "-", "regexp:" + rules], config_dir=config_dir, input=msg)
    assert (r.returncode, r.stdout) == (0, "Subject: you win\n big\tREJECT header\n")
    r = run(["postmap", "-b", "-q", "-", "regexp:" + rules], config_dir=config_dir, input=msg)
    assert (r.returncode, r.stdout) == (0, "buy now\tREJECT body\n")
    r = run(["postmap", "-hb", "-q", "-", "regexp:" + rules], config_dir=config_dir, input=msg)
    assert r.stdout == "Subject: you win\n big\tREJECT header\nbuy now\tREJECT body\n"


def test_long_lines(tmp_path, config_dir):
    value = "v" * 100000
    src = write(tmp_path / "long", "k " + value + "\n")
    assert run(["postmap", src], config_dir=config_dir).returncode == 0
    assert run(["postmap", "-q", "k", src], config_dir=config_dir).stdout == value + "\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="ownership changes need root")
def test_root_gives_table_to_source_owner(tmp_path, config_dir):
    src = write(tmp_path / "access", "a b\n")
    os.chown(src, 65534, 65534)
    assert run(["postmap", src], config_dir=config_dir).returncode == 0
    st = os.stat(src + ".db")
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    os.unlink(src + ".db")
    assert run(["postmap", "-o", src], config_dir=config_dir).returncode == 0
    assert os.stat(src + ".db").st_uid == 0


def test_reader_waits_for_writer_lock(access, config_dir):
    import fcntl
    import subprocess
    import time
    from conftest import bin_path
    with open(access + ".db", "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        env = dict(os.environ, MAIL_CONFIG=str(config_dir))
        p = subprocess.Popen([bin_path("postmap"), "-q", "spammer@example.com", access],
                             stdout=subprocess.PIPE, text=True, env=env)
        time.sleep(0.3)
        assert p.poll() is None  # blocked on the shared lock
        fcntl.flock(held, fcntl.LOCK_UN)
        out, _ = p.communicate(timeout=10)
    assert (p.returncode, out) == (0, "REJECT\n")


def test_default_database_type(tmp_path, config_dir):
    (config_dir / "main.cf").write_text("default_database_type = btree\n")
    src = write(tmp_path / "access", "a b\n")
    assert run(["postmap", src], config_dir=config_dir).returncode == 0
    assert run(["postmap", "-q", "a", "btree:" + src], config_dir=config_dir).stdout == "b\n"
    r = run(["postmap", "-q", "a", "hash:" + src], config_dir=config_dir)
    assert r.returncode == 1 and r.stderr.startswith("postmap: fatal: open database")
    # -c names the configuration directory.
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.cf").write_text("default_database_type = hash\n")
    assert run(["postmap", "-c", str(other), src], config_dir=config_dir).returncode == 0
    r = run(["postmap", "-c", str(other), "-q", "a", src], config_dir=config_dir)
    assert r.stdout == "b\n"
    r = run(["postmap", "-c", str(tmp_path / "nonexistent"), src])
    assert r.returncode == 1 and r.stderr.startswith("postmap: fatal: ")
