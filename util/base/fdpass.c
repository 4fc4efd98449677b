/* fdpass: descriptor hand-over between processes over a unix stream socket (SCM_RIGHTS), as
 * one fixed-size slot map so neither side ever reads past it. */
#include "base/fdpass.h"

#include "base/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int wait_for(int sock, short events, long deadline, struct str *why)
{
    struct pollfd p = {.fd = sock, .events = events};
    int n;
    while ((n = poll(&p, 1, deadline_poll_ms(deadline))) < 0 && errno == EINTR)
        ;
    if (n > 0)
        return 0;
    str_set(why, n == 0 ? "timeout" : strerror(errno));
    return -1;
}

int fdpass_send(int sock, const int *fds, size_t n, int timeout_ms, struct str *why)
{
    char map[FDPASS_SLOTS];
    int pass[FDPASS_SLOTS];
    size_t count = 0;
    if (n > FDPASS_SLOTS) {
        str_set(why, "too many descriptors");
        return -1;
    }
    memset(map, '0', sizeof(map));
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0) {
            map[i] = '1';
            pass[count++] = fds[i];
        }
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * FDPASS_SLOTS)];
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct iovec iov = {.iov_base = map, .iov_len = sizeof(map)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (count) {
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(c), pass, sizeof(int) * count);
    }
    long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
    for (;;) {
        if (wait_for(sock, POLLOUT, deadline, why) < 0)
            return -1;
        ssize_t w = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w == (ssize_t)sizeof(map))
            return 0;
        if (w >= 0) { /* the map must go in one piece with its descriptors */
            str_set(why, "short write");
            return -1;
        }
        if (errno != EAGAIN && errno != EINTR) {
            str_set(why, strerror(errno));
            return -1;
        }
    }
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* Takes the descriptors out of a control message; returns their count or -1. */
static int take_fds(struct msghdr *msg, int *got, size_t max)
{
    int n = 0, bad = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            bad = 1;
            continue;
        }
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if ((size_t)n < max)
                got[n++] = fd;
            else {
                close(fd);
                bad = 1;
            }
        }
    }
    if (msg->msg_flags & MSG_CTRUNC)
        bad = 1;
    if (bad) {
        close_all(got, (size_t)n);
        return -1;
    }
    return n;
}

int fdpass_recv(int sock, int *fds, int timeout_ms, struct str *why)
{
    char map[FDPASS_SLOTS];
    int got[FDPASS_SLOTS];
    int ngot = 0;
    size_t have = 0;
    long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
    for (int i = 0; i < FDPASS_SLOTS; i++)
        fds[i] = -1;
    while (have < sizeof(map)) {
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(sizeof(int) * FDPASS_SLOTS)];
        } ctl;
        struct iovec iov = {.iov_base = map + have, .iov_len = sizeof(map) - have};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof(ctl.buf);
        if (wait_for(sock, POLLIN, deadline, why) < 0)
            goto fail;
        ssize_t r = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0) {
            str_set(why, r == 0 ? "lost connection" : strerror(errno));
            goto fail;
        }
        int k = take_fds(&msg, got + ngot, (size_t)(FDPASS_SLOTS - ngot));
        if (k < 0) {
            str_set(why, "malformed descriptor hand-over");
            goto fail;
        }
        ngot += k;
        have += (size_t)r;
    }
    int want = 0;
    for (int i = 0; i < FDPASS_SLOTS; i++) {
        if (map[i] != '0' && map[i] != '1') {
            str_set(why, "malformed descriptor map");
            goto fail;
        }
        want += map[i] == '1';
    }
    if (want != ngot) {
        str_set(why, "descriptor count does not match the map");
        goto fail;
    }
    for (int i = 0, j = 0; i < FDPASS_SLOTS; i++)
        if (map[i] == '1')
            fds[i] = got[j++];
    return ngot;
fail:
    close_all(got, (size_t)ngot);
    return -1;
}
