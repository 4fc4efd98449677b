"""End-to-end tests for postalias: aliases(5) syntax, queries, listing and updates."""
import os

from conftest import run

ALIASES = """\
# /etc/aliases
postmaster: root
Root: ataylor,jsmith
"john doe": john
list: :include:/etc/mail/list,
\t"|/usr/bin/vacation john", /var/log/archive
bad line without colon
"unterminated: x
"""


def make(tmp_path, config_dir, text=ALIASES):
    path = tmp_path / "aliases"
    path.write_text(text)
    r = run(["postalias", str(path)], config_dir=config_dir)
    return str(path), r


def test_build_and_query(tmp_path, config_dir):
    path, r = make(tmp_path, config_dir)
    assert r.returncode == 0
    assert r.stderr == (f"postalias: warning: {path}, line 7: need name:value pair\n"
                        f"postalias: warning: {path}, line 8: need name:value pair\n")
    assert os.path.exists(path + ".db")
    r = run(["postalias", "-q", "root", "hash:" + path], config_dir=config_dir)
    assert (r.returncode, r.stdout) == (0, "ataylor,jsmith\n")
    r = run(["postalias", "-q", "POSTMASTER", path], config_dir=config_dir)
    assert r.stdout == "root\n"
    r = run(["postalias", "-q", "john doe", path], config_dir=config_dir)
    assert r.stdout == "john\n"
    r = run(["postalias", "-q", "list", path], config_dir=config_dir)
    assert r.stdout == ':include:/etc/mail/list,\t"|/usr/bin/vacation john", /var/log/archive\n'
    r = run(["postalias", "-q", "@", path], config_dir=config_dir)
    assert r.stdout == "@\n"
    r = run(["postalias", "-q", "nobody", path], config_dir=config_dir)
    assert (r.returncode, r.stdout) == (1, "")


def test_dump(tmp_path, config_dir):
    path, _ = make(tmp_path, config_dir, "root: ataylor,jsmith\nabuse: root\n")
    r = run(["postalias", "-s", path], config_dir=config_dir)
    assert r.returncode == 0
    assert sorted(r.stdout.splitlines()) == ["@\t@", "abuse\troot", "root\tataylor,jsmith"]


def test_incremental_and_delete(tmp_path, config_dir):
    path, _ = make(tmp_path, config_dir, "root: ataylor\n")
    r = run(["postalias", "-i", path], config_dir=config_dir,
            input="webmaster: root\nroot: other\n")
    assert r.returncode == 0
    assert r.stderr == 'postalias: warning: -, line 2: duplicate entry: "root"\n'
    assert run(["postalias", "-q", "webmaster", path], config_dir=config_dir).stdout == "root\n"
    assert run(["postalias", "-q", "root", path], config_dir=config_dir).stdout == "ataylor\n"
    r = run(["postalias", "-d", "webmaster", path], config_dir=config_dir)
    assert r.returncode == 0
    assert run(["postalias", "-q", "webmaster", path], config_dir=config_dir).returncode == 1
    assert run(["postalias", "-d", "webmaster", path], config_dir=config_dir).returncode == 1


def test_duplicates(tmp_path, config_dir):
    path, r = make(tmp_path, config_dir, "root: a\nRoot: b\n")
    assert r.stderr == f'postalias: warning: {path}, line 2: duplicate entry: "root"\n'
    assert run(["postalias", "-q", "root", path], config_dir=config_dir).stdout == "a\n"
    r = run(["postalias", "-w", path], config_dir=config_dir)
    assert r.stderr == ""
    r = run(["postalias", "-r", path], config_dir=config_dir)
    assert r.stderr == ""
    assert run(["postalias", "-q", "root", path], config_dir=config_dir).stdout == "b\n"


def test_error_keeps_old(tmp_path, config_dir):
    path, _ = make(tmp_path, config_dir, "root: a\n")
    before = open(path + ".db", "rb").read()
    with open(path, "w") as f:
        f.write("root: b\nx\0y: z\n")
    r = run(["postalias", path], config_dir=config_dir)
    assert r.returncode == 1
    assert r.stderr == f"postalias: fatal: {path}, line 2: NUL byte in input\n"
    assert open(path + ".db", "rb").read() == before
    r = run(["postalias"], config_dir=config_dir)
    assert r.returncode == 1 and "usage: postalias" in r.stderr


def test_default_database_type(tmp_path, config_dir):
    (config_dir / "main.cf").write_text("default_database_type = btree\n")
    path, r = make(tmp_path, config_dir, "root: ataylor,jsmith\n")
    assert r.returncode == 0
    r = run(["postalias", "-q", "root", "btree:" + path], config_dir=config_dir)
    assert r.stdout == "ataylor,jsmith\n"
