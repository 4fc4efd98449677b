/* policy_client: requests to and replies from a policy server (the Postfix policy delegation
 * protocol), with connection reuse, timeouts and retries. See policy_client.h. */
#include "mail/policy_client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/net.h"
#include "base/stream.h"

/* ---- request encoding ---- */

void policy_request_add(struct str *req, const char *name, const char *value)
{
    str_append(req, name);
    str_append(req, "=");
    size_t start = req->len;
    str_append(req, value ? value : "");
    for (size_t i = start; i < req->len; i++) {
        unsigned char ch = (unsigned char)req->data[i];
        if (ch < 0x20 || ch == 0x7f)
            req->data[i] = '?';
    }
    str_append(req, "\n");
}

void policy_request_addl(struct str *req, const char *name, long value)
{
    str_appendf(req, "%s=%ld\n", name, value);
}

void policy_request_end(struct str *req)
{
    str_append(req, "\n");
}

/* ---- reply parsing ---- */

int policy_reply_parse(const char *text, size_t len, struct str *action, struct str *err)
{
    size_t pos = 0, nattr = 0;
    int have_action = 0;
    if (memchr(text, 0, len))
        return str_set(err, "NUL byte in reply"), POLICY_REPLY_BAD;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        if (!nl)
            return str_set(err, "reply does not end in an empty line"), POLICY_REPLY_BAD;
        size_t n = (size_t)(nl - line);
        pos += n + 1;
        if (n == 0) {
            if (pos != len)
                return str_set(err, "data after the end of the reply"), POLICY_REPLY_BAD;
            return have_action ? POLICY_REPLY_OK : POLICY_REPLY_NO_ACTION;
        }
        if (n > POLICY_LINE_LIMIT)
            return str_set(err, "reply line too long"), POLICY_REPLY_BAD;
        if (++nattr > POLICY_ATTR_LIMIT)
            return str_set(err, "too many attributes in reply"), POLICY_REPLY_BAD;
        const char *eq = memchr(line, '=', n);
        if (!eq || eq == line)
            return str_setf(err, "malformed reply line \"%.*s\"", (int)(n > 100 ? 100 : n), line),
                   POLICY_REPLY_BAD;
        if ((size_t)(eq - line) == 6 && memcmp(line, "action", 6) == 0) {
            str_clear(action);
            str_appendn(action, eq + 1, n - 7);
            have_action = 1;
        }
    }
    str_set(err, "reply does not end in an empty line");
    return POLICY_REPLY_BAD;
}

/* ---- connections ---- */

struct policy_client {
    char *endpoint;
    const char *name; /* endpoint without "unix:"/"inet:", as log lines show it */
    struct net_endpoint ep;
    struct policy_client_opts o;
    struct stream *s;
    long opened_ms, used_ms;
    long requests; /* on the current connection */
    long connections;
};

struct policy_client *policy_client_new(const char *endpoint, const struct policy_client_opts *o,
                                        struct str *err)
{
    struct policy_client *pc = xmalloc(sizeof *pc);
    memset(pc, 0, sizeof *pc);
    if (net_parse_endpoint(endpoint, &pc->ep, err) < 0) {
        free(pc);
        return NULL;
    }
    pc->endpoint = xstrdup(endpoint);
    pc->name = pc->endpoint;
    if (strncmp(pc->name, "unix:", 5) == 0 || strncmp(pc->name, "inet:", 5) == 0)
        pc->name += 5;
    pc->o = *o;
    if (pc->o.try_limit < 1)
        pc->o.try_limit = 1;
    if (pc->o.timeout < 1)
        pc->o.timeout = 1;
    return pc;
}

static void pc_disconnect(struct policy_client *pc)
{
    if (pc->s)
        stream_close(pc->s);
    pc->s = NULL;
    pc->requests = 0;
}

void policy_client_free(struct policy_client *pc)
{
    if (!pc)
        return;
    pc_disconnect(pc);
    net_endpoint_free(&pc->ep);
    free(pc->endpoint);
    free(pc);
}

long policy_client_connections(const struct policy_client *pc)
{
    return pc->connections;
}

const char *policy_client_endpoint(const struct policy_client *pc)
{
    return pc->endpoint;
}

/* Closes a kept connection that is too old, idle too long, used up, or that the server closed
 * (readable while no request is outstanding). */
static void pc_expire(struct policy_client *pc)
{
    if (!pc->s)
        return;
    long now = now_ms();
    struct pollfd p = {.fd = stream_fd(pc->s), .events = POLLIN};
    if ((pc->o.max_ttl > 0 && now - pc->opened_ms >= pc->o.max_ttl * 1000L) ||
        (pc->o.max_idle > 0 && now - pc->used_ms >= pc->o.max_idle * 1000L) ||
        (pc->o.request_limit > 0 && pc->requests >= pc->o.request_limit) || poll(&p, 1, 0) != 0)
        pc_disconnect(pc);
}

static int pc_connect(struct policy_client *pc, struct str *why)
{
    if (pc->s)
        return 0;
    int fd = net_connect_endpoint(&pc->ep, NET_ALL, pc->o.timeout * 1000, why);
    if (fd < 0) {
        int e = errno;
        msg_warn("%s", why->data);
        str_set(why, strerror(e));
        return -1;
    }
    pc->s = stream_fdopen(fd);
    pc->opened_ms = now_ms();
    pc->requests = 0;
    pc->connections++;
    return 0;
}

static const char *pc_stream_error(struct stream *s)
{
    int e = stream_errno(s);
    if (stream_status(s) & STREAM_ST_TIMEOUT)
        e = ETIMEDOUT;
    return e ? strerror(e) : "lost connection";
}

/* Reads the reply lines up to the empty line into text (bounded). */
static int pc_read_reply(struct policy_client *pc, struct str *text, struct str *why)
{
    struct str line = STR_INIT;
    int rc = -1;
    for (size_t n = 0; n <= POLICY_ATTR_LIMIT + 1; n++) {
        str_clear(&line);
        int r = stream_getline(pc->s, &line, POLICY_LINE_LIMIT + 2);
        if (r == STREAM_PARTIAL) {
            str_set(why, "reply line too long");
            goto out;
        }
        if (r != STREAM_LINE) {
            str_set(why, r == STREAM_EOF ? "lost connection" : pc_stream_error(pc->s));
            goto out;
        }
        str_appendn(text, line.data, line.len);
        if (line.len == 1) {
            rc = 0;
            goto out;
        }
    }
    str_set(why, "too many attributes in reply");
out:
    str_release(&line);
    return rc;
}

/* One attempt: POLICY_REPLY_* or 1 for a failure worth retrying (why set). */
static int pc_attempt(struct policy_client *pc, const struct str *request, struct str *action,
                      struct str *why)
{
    struct str text = STR_INIT;
    int r = 1;
    pc_expire(pc);
    if (pc_connect(pc, why) < 0)
        return 1;
    stream_set_deadline(pc->s, deadline_after_ms(pc->o.timeout * 1000L));
    stream_write(pc->s, request->data, request->len);
    if (stream_flush(pc->s) < 0) {
        str_set(why, pc_stream_error(pc->s));
    } else if (pc_read_reply(pc, &text, why) == 0) {
        r = policy_reply_parse(text.data, text.len, action, why);
        if (r == POLICY_REPLY_BAD)
            r = 1;
    }
    str_release(&text);
    if (r == 1) {
        pc_disconnect(pc);
        return 1;
    }
    pc->requests++;
    pc->used_ms = now_ms();
    if (r == POLICY_REPLY_NO_ACTION)
        pc_disconnect(pc);
    return r;
}

int policy_client_query(struct policy_client *pc, const struct str *request, struct str *action)
{
    struct str why = STR_INIT;
    int r = 1;
    for (int attempt = 1; attempt <= pc->o.try_limit; attempt++) {
        str_clear(&why);
        r = pc_attempt(pc, request, action, &why);
        if (r != 1)
            break;
        msg_warn("problem talking to server %s: %s", pc->name, why.data);
        if (attempt < pc->o.try_limit && pc->o.retry_delay > 0)
            sleep((unsigned)pc->o.retry_delay);
    }
    if (r == POLICY_REPLY_NO_ACTION)
        msg_warn("%s: policy server reply has no action attribute", pc->name);
    str_release(&why);
    return r == 1 ? POLICY_REPLY_BAD : r;
}
