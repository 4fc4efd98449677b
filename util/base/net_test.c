/* Unit tests for net: endpoint parsing, listen/connect over loopback and unix sockets, refused
 * connects with their reason text, address formatting (IPv4-mapped), protocols and FIFOs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void expect_ep(const char *text, int kind, const char *host, const char *port,
                      const char *path, int bracketed)
{
    struct net_endpoint ep;
    struct str why = STR_INIT;
    assert_int_equal(net_parse_endpoint(text, &ep, &why), 0);
    assert_int_equal(ep.kind, kind);
    if (host)
        assert_string_equal(ep.host, host);
    else
        assert_null(ep.host);
    if (port)
        assert_string_equal(ep.port, port);
    if (path)
        assert_string_equal(ep.path, path);
    assert_int_equal(ep.bracketed, bracketed);
    net_endpoint_free(&ep);
    str_release(&why);
}

static void expect_bad(const char *text, const char *reason)
{
    struct net_endpoint ep;
    struct str why = STR_INIT;
    assert_int_equal(net_parse_endpoint(text, &ep, &why), -1);
    assert_string_equal(str_cstr(&why), reason);
    str_release(&why);
}

static void test_parse_endpoint(void **state)
{
    (void)state;
    expect_ep("mail.example.com:25", NET_EP_INET, "mail.example.com", "25", NULL, 0);
    expect_ep("[mail.example.com]:587", NET_EP_INET, "mail.example.com", "587", NULL, 1);
    expect_ep("[::1]:10025", NET_EP_INET, "::1", "10025", NULL, 1);
    expect_ep("smtp", NET_EP_INET, NULL, "smtp", NULL, 0);
    expect_ep("inet:127.0.0.1:10026", NET_EP_INET, "127.0.0.1", "10026", NULL, 0);
    expect_ep("inet:[2001:db8::1]:25", NET_EP_INET, "2001:db8::1", "25", NULL, 1);
    expect_ep(":25", NET_EP_INET, NULL, "25", NULL, 0);
    expect_ep("unix:/var/run/milter.sock", NET_EP_UNIX, NULL, NULL, "/var/run/milter.sock", 0);
    expect_ep("/tmp/x", NET_EP_UNIX, NULL, NULL, "/tmp/x", 0);
    expect_bad("::1:25", "bad endpoint \"::1:25\": write an IPv6 address as [addr]:port");
    expect_bad("[::1]25", "bad endpoint \"[::1]25\": expected [host]:port");
    expect_bad("[::1]:", "bad endpoint \"[::1]:\": expected [host]:port");
    expect_bad("host:", "bad endpoint \"host:\": missing port");
    expect_bad("unix:", "bad endpoint \"unix:\": empty path");
    expect_bad("", "bad endpoint \"\": empty");
}

static void test_protocols(void **state)
{
    (void)state;
    struct str why = STR_INIT;
    assert_int_equal(net_parse_protocols("all", &why), NET_ALL);
    assert_int_equal(net_parse_protocols("ipv4", &why), NET_IPV4);
    assert_int_equal(net_parse_protocols("ipv6, ipv4", &why), NET_ALL);
    assert_int_equal(net_parse_protocols("IPv6", &why), NET_IPV6);
    assert_int_equal(net_parse_protocols("ipx", &why), -1);
    assert_string_equal(str_cstr(&why), "bad inet_protocols value: \"ipx\"");
    assert_int_equal(net_parse_protocols("", &why), -1);
    str_release(&why);
}

static void test_format_mapped(void **state)
{
    (void)state;
    struct sockaddr_in6 in6 = {0};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(2525);
    inet_pton(AF_INET6, "::ffff:192.0.2.7", &in6.sin6_addr);
    struct str a = STR_INIT, p = STR_INIT;
    assert_int_equal(net_format_addr((struct sockaddr *)&in6, sizeof(in6), &a, &p), 0);
    assert_string_equal(a.data, "192.0.2.7");
    assert_string_equal(p.data, "2525");
    inet_pton(AF_INET6, "2001:db8::5", &in6.sin6_addr);
    assert_int_equal(net_format_addr((struct sockaddr *)&in6, sizeof(in6), &a, NULL), 0);
    assert_string_equal(a.data, "2001:db8::5");
    struct sockaddr_in in = {0};
    in.sin_family = AF_INET;
    in.sin_port = htons(25);
    inet_pton(AF_INET, "10.1.2.3", &in.sin_addr);
    assert_int_equal(net_format_addr((struct sockaddr *)&in, sizeof(in), &a, &p), 0);
    assert_string_equal(a.data, "10.1.2.3");
    assert_string_equal(p.data, "25");
    str_release(&a);
    str_release(&p);
}

static void test_inet_listen_connect(void **state)
{
    (void)state;
    struct str why = STR_INIT, a = STR_INIT, p = STR_INIT;
    int fds[4];
    int n = net_listen_inet("127.0.0.1", "0", NET_IPV4, 16, fds, 4, &why);
    assert_int_equal(n, 1);
    assert_int_equal(net_local_addr(fds[0], &a, &p), 0);
    assert_string_equal(a.data, "127.0.0.1");
    assert_int_not_equal(atoi(p.data), 0);
    assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
    assert_true(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
    int c = net_connect_inet("127.0.0.1", p.data, NET_ALL, 2000, &why);
    assert_true(c >= 0);
    assert_false(fcntl(c, F_GETFL) & O_NONBLOCK);
    int s = accept(fds[0], NULL, NULL);
    assert_true(s >= 0);
    struct str pa = STR_INIT;
    assert_int_equal(net_peer_addr(s, &pa, NULL), 0);
    assert_string_equal(pa.data, "127.0.0.1");
    assert_int_equal(write(c, "x", 1), 1);
    char ch;
    assert_int_equal(read(s, &ch, 1), 1);
    close(s);
    close(c);
    /* Now nobody listens on that port: refused, with the reason spelled out. */
    char expect[128];
    snprintf(expect, sizeof(expect), "connect to 127.0.0.1:%s: Connection refused", p.data);
    close(fds[0]);
    assert_int_equal(net_connect_inet("127.0.0.1", p.data, NET_ALL, 2000, &why), -1);
    assert_string_equal(str_cstr(&why), expect);
    assert_int_equal(errno, ECONNREFUSED);
    str_release(&why);
    str_release(&a);
    str_release(&p);
    str_release(&pa);
}

static void test_ipv6_listen(void **state)
{
    (void)state;
    struct str why = STR_INIT, p = STR_INIT;
    int fds[4];
    int n = net_listen_inet("::1", "0", NET_ALL, 16, fds, 4, &why);
    if (n < 0) {
        str_release(&why);
        skip(); /* no IPv6 loopback in this sandbox */
    }
    assert_int_equal(n, 1);
    assert_int_equal(net_local_addr(fds[0], NULL, &p), 0);
    int c = net_connect_inet("::1", p.data, NET_IPV6, 2000, &why);
    assert_true(c >= 0);
    close(c);
    close(fds[0]);
    assert_int_equal(net_connect_inet("::1", p.data, NET_IPV6, 2000, &why), -1);
    char expect[128];
    snprintf(expect, sizeof(expect), "connect to [::1]:%s: Connection refused", p.data);
    assert_string_equal(str_cstr(&why), expect);
    /* ipv4-only protocols exclude an IPv6 literal */
    assert_int_equal(net_listen_inet("::1", "0", NET_IPV4, 16, fds, 4, &why), -1);
    str_release(&why);
    str_release(&p);
}

static void test_unix_sockets(void **state)
{
    (void)state;
    char dir[] = "/tmp/kestrel-net-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], dpath[256];
    snprintf(path, sizeof(path), "%s/sock", dir);
    snprintf(dpath, sizeof(dpath), "%s/dgram", dir);
    struct str why = STR_INIT;
    assert_int_equal(net_connect_unix(path, 1000, &why), -1);
    char expect[300];
    snprintf(expect, sizeof(expect), "connect to %s: No such file or directory", path);
    assert_string_equal(str_cstr(&why), expect);
    int l = net_listen_unix(path, 0660, 8, &why);
    assert_true(l >= 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0660);
    /* Listening again replaces the stale socket file. */
    int l2 = net_listen_unix(path, 0666, 8, &why);
    assert_true(l2 >= 0);
    struct net_endpoint ep;
    char text[300];
    snprintf(text, sizeof(text), "unix:%s", path);
    assert_int_equal(net_parse_endpoint(text, &ep, &why), 0);
    int c = net_connect_endpoint(&ep, NET_ALL, 1000, &why);
    assert_true(c >= 0);
    struct str a = STR_INIT;
    assert_int_equal(net_peer_addr(c, &a, NULL), 0);
    assert_string_equal(a.data, path);
    close(c);
    net_endpoint_free(&ep);
    close(l);
    close(l2);
    int d = net_bind_unix_dgram(dpath, 0622, &why);
    assert_true(d >= 0);
    close(d);
    char longpath[200];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = 0;
    assert_int_equal(net_listen_unix(longpath, 0600, 1, &why), -1);
    unlink(path);
    unlink(dpath);
    rmdir(dir);
    str_release(&why);
    str_release(&a);
}

static void test_fifo(void **state)
{
    (void)state;
    char dir[] = "/tmp/kestrel-fifo-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], file[256];
    snprintf(path, sizeof(path), "%s/public", dir);
    snprintf(file, sizeof(file), "%s/plain", dir);
    struct str why = STR_INIT;
    int fd = net_fifo_open_read(path, 0622, &why);
    assert_true(fd >= 0);
    char buf[8];
    assert_int_equal(read(fd, buf, sizeof(buf)), -1); /* no writer yet: would block, not EOF */
    assert_int_equal(errno, EAGAIN);
    int w = open(path, O_WRONLY | O_NONBLOCK);
    assert_true(w >= 0);
    assert_int_equal(write(w, "W", 1), 1);
    close(w);
    assert_int_equal(read(fd, buf, sizeof(buf)), 1);
    assert_int_equal(read(fd, buf, sizeof(buf)), -1); /* writer gone: still no EOF */
    close(fd);
    int f = open(file, O_CREAT | O_WRONLY, 0600);
    close(f);
    assert_int_equal(net_fifo_open_read(file, 0622, &why), -1);
    char expect[300];
    snprintf(expect, sizeof(expect), "open fifo %s: not a fifo", file);
    assert_string_equal(str_cstr(&why), expect);
    unlink(path);
    unlink(file);
    rmdir(dir);
    str_release(&why);
}

static void test_flags(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(net_set_nonblock(p[0], 1), 0);
    assert_true(fcntl(p[0], F_GETFL) & O_NONBLOCK);
    assert_int_equal(net_set_nonblock(p[0], 0), 0);
    assert_false(fcntl(p[0], F_GETFL) & O_NONBLOCK);
    assert_int_equal(net_set_cloexec(p[0], 1), 0);
    assert_true(fcntl(p[0], F_GETFD) & FD_CLOEXEC);
    close(p[0]);
    close(p[1]);
    assert_int_equal(net_set_cloexec(p[0], 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_endpoint), cmocka_unit_test(test_protocols),
        cmocka_unit_test(test_format_mapped),  cmocka_unit_test(test_inet_listen_connect),
        cmocka_unit_test(test_ipv6_listen),    cmocka_unit_test(test_unix_sockets),
        cmocka_unit_test(test_fifo),           cmocka_unit_test(test_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
