/* sm_submit: builds the maildrop record stream (sender, DSN attributes, recipients, content)
 * and feeds it to "$command_directory/postdrop -r". Records are held back until the header
 * section has ended, so a -t message without recipients fails before postdrop creates a file. */
#include "sendmail.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/address_header.h"
#include "mail/config.h"
#include "mail/queue_record.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct sm_submit {
    struct str held; /* records not yet sent */
    int fd;          /* pipe to postdrop, -1 until started */
    pid_t pid;
    int write_error;
    int extract;
    long rcpts;
    struct sm_headers headers;
    const char *config_dir;
};

const char *sm_login_name(void)
{
    static struct str name = STR_INIT;
    if (name.len == 0) {
        struct passwd *pw = getpwuid(getuid());
        if (pw && sm_address_ok(pw->pw_name))
            str_set(&name, pw->pw_name);
        else
            str_setf(&name, "#%ld", (long)getuid());
    }
    return str_cstr(&name);
}

static void put_attr(struct str *out, const char *name, const char *value)
{
    struct str a = STR_INIT;
    str_setf(&a, "%s=%s", name, value);
    rec_put(out, REC_ATTR, a.data, a.len);
    str_release(&a);
}

/* Command-line arguments are address lists ("a, b"), as in Postfix. */
static long put_rcpts(struct sm_submit *s, const struct argv *rcpts, int notify)
{
    long n = 0;
    struct argv *list = argv_new();
    struct str err = STR_INIT;
    for (size_t i = 0; i < rcpts->n; i++)
        if (header_addr_extract(rcpts->v[i], strlen(rcpts->v[i]), 0, list, &err) < 0)
            msg_fatal_status(EX_USAGE, "bad recipient address: %s", rcpts->v[i]);
    for (size_t i = 0; i < list->n; i++) {
        if (notify)
            rec_putf(&s->held, REC_NOTIFY, "%d", notify);
        rec_puts(&s->held, REC_RCPT, list->v[i]);
        n++;
    }
    argv_free(list);
    str_release(&err);
    return n;
}

struct sm_submit *sm_submit_begin(const struct sm_opts *o, const char *sender,
                                  const struct argv *rcpts)
{
    struct sm_submit *s = xcalloc(1, sizeof(*s));
    s->fd = -1;
    s->extract = o->extract;
    s->config_dir = o->config_dir;
    sm_headers_init(&s->headers, (size_t)config_get_int("header_size_limit"));
    rec_puts(&s->held, REC_SENDER, sender);
    if (o->fullname)
        put_attr(&s->held, "fullname", o->fullname);
    put_attr(&s->held, "rewrite_context", "local");
    if (o->envid)
        put_attr(&s->held, "dsn_envid", o->envid);
    if (o->ret)
        put_attr(&s->held, "dsn_ret", o->ret);
    if (o->extract)
        put_attr(&s->held, "submit_flags", "16");
    s->rcpts = put_rcpts(s, rcpts, o->notify);
    rec_put(&s->held, REC_CONTENT, "", 0);
    return s;
}

static void start_postdrop(struct sm_submit *s)
{
    int p[2];
    struct str path = STR_INIT;
    str_setf(&path, "%s/postdrop", config_get("command_directory"));
    if (pipe(p) < 0)
        msg_fatal_status(EX_TEMPFAIL, "pipe: %s", strerror(errno));
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0)
        msg_fatal_status(EX_TEMPFAIL, "fork: %s", strerror(errno));
    if (s->pid == 0) {
        dup2(p[0], 0);
        close(p[0]);
        close(p[1]);
        char *args[] = {path.data, "-r", NULL, NULL, NULL};
        if (s->config_dir) {
            args[2] = "-c";
            args[3] = (char *)s->config_dir;
        }
        execv(path.data, args);
        msg_fatal_status(EX_TEMPFAIL, "execute %s: %s", path.data, strerror(errno));
    }
    close(p[0]);
    s->fd = p[1];
    str_release(&path);
}

static void send_held(struct sm_submit *s)
{
    size_t off = 0;
    while (off < s->held.len && !s->write_error) {
        ssize_t n = write(s->fd, s->held.data + off, s->held.len - off);
        if (n < 0 && errno != EINTR)
            s->write_error = errno;
        else if (n > 0)
            off += (size_t)n;
    }
    str_clear(&s->held);
}

/* The header section is complete: check the recipients, then start postdrop. */
static void release(struct sm_submit *s)
{
    if (s->rcpts == 0 && !(s->extract && s->headers.rcpts > 0)) {
        if (s->extract)
            msg_fatal_status(EX_USAGE, "%s(%ld): No recipient addresses found in message header",
                             sm_login_name(), (long)getuid());
        msg_fatal_status(EX_USAGE,
                         "%s(%ld): Recipient addresses must be specified on the command line or "
                         "via the -t option",
                         sm_login_name(), (long)getuid());
    }
    start_postdrop(s);
    send_held(s);
}

void sm_submit_put(void *submit, int type, const char *data, size_t len)
{
    struct sm_submit *s = submit;
    rec_put(&s->held, type, data, len);
    if (s->fd < 0 && sm_headers_put(&s->headers, type, data, len))
        release(s);
    if (s->fd >= 0 && s->held.len >= 65536)
        send_held(s);
}

int sm_submit_end(struct sm_submit *s)
{
    sm_headers_finish(&s->headers);
    rec_put(&s->held, REC_XTRA, "", 0);
    rec_put(&s->held, REC_END, "", 0);
    if (s->fd < 0)
        release(s);
    send_held(s);
    close(s->fd);
    s->fd = -1;
    int status;
    while (waitpid(s->pid, &status, 0) < 0)
        if (errno != EINTR)
            msg_fatal_status(EX_TEMPFAIL, "waitpid: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !s->write_error)
        return 0;
    msg_warn("%s(%ld): unable to submit the message: postdrop %s %d", sm_login_name(),
             (long)getuid(), WIFEXITED(status) ? "exit status" : "killed by signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    /* A message postdrop refuses for what it is (too large, malformed) is a data error for the
     * caller, not something to retry. */
    return WIFEXITED(status) && WEXITSTATUS(status) == EX_DATAERR ? EX_DATAERR : EX_TEMPFAIL;
}

void sm_submit_free(struct sm_submit *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    sm_headers_release(&s->headers);
    str_release(&s->held);
    free(s);
}
