/* alias: alias_maps lookups (with the owner of the table file, whose privileges commands and
 * files from that table get), splitting alias values and :include: files into targets, the
 * :include: safety rules, and the dispatch of each target (command, file, include, address). */
#include "local.h"

#include "base/log.h"
#include "base/mem.h"
#include "table/table.h"

#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The owner of a file-based table ("/etc/aliases", or its ".db"); root otherwise. */
static void table_owner(const struct table *t, uid_t *uid, gid_t *gid)
{
    struct stat st;
    struct str db = STR_INIT;
    *uid = 0;
    *gid = 0;
    if (t->name && t->name[0] == '/') {
        str_setf(&db, "%s.db", t->name);
        if (stat(t->name, &st) == 0 || stat(db.data, &st) == 0) {
            *uid = st.st_uid;
            *gid = st.st_gid;
        }
    }
    str_release(&db);
}

int alias_lookup(const struct local_params *p, const char *name, struct str *value,
                 uid_t *owner_uid, gid_t *owner_gid)
{
    for (size_t i = 0; i < p->alias_count; i++) {
        struct table *t = p->alias_tables[i];
        str_clear(value);
        int rc = table_lookup(t, name, value);
        if (rc == TABLE_ERROR) {
            str_set(value, str_cstr(&t->error));
            return TABLE_ERROR;
        }
        if (rc == TABLE_FOUND) {
            table_owner(t, owner_uid, owner_gid);
            return TABLE_FOUND;
        }
    }
    return TABLE_NOTFOUND;
}

/* Adds one token, trimmed, without surrounding quotes. */
static void add_token(struct argv *out, const char *s, size_t len)
{
    while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\r'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"')
        s++, len -= 2;
    if (len > 0 && out->n < LOCAL_MAX_TARGETS)
        argv_addn(out, s, len);
}

/* Splits one line at commas outside double quotes. */
static void split_line(struct argv *out, const char *s, size_t len)
{
    size_t start = 0;
    int quoted = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\' && quoted && i + 1 < len)
            i++;
        else if (s[i] == '"')
            quoted = !quoted;
        else if (s[i] == ',' && !quoted) {
            add_token(out, s + start, i - start);
            start = i + 1;
        }
    }
    add_token(out, s + start, len - start);
}

struct argv *alias_split(const char *text, int is_file)
{
    struct argv *out = argv_new();
    const char *line = text;
    while (*line) {
        size_t len = strcspn(line, "\n");
        const char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!(is_file && *s == '#'))
            split_line(out, line, len);
        line += len + (line[len] == '\n');
    }
    return out;
}

static void config_error(struct mail_message *m, struct local_rcpt *rc, const char *path,
                         const char *problem)
{
    msg_warn(":include: file %s: %s", path, problem);
    local_report(m, rc, LOCAL_BOUNCED, "5.3.5",
                 "mail system configuration error: :include: file %s: %s", path, problem);
}

/* Opens and reads the file with the current expansion's privileges. */
static int include_open_read(const char *path, struct stat *st, struct str *text,
                             const char **problem)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *problem = strerror(errno);
        return -1;
    }
    int rc = -1;
    ssize_t n;
    char buf[8192];
    if (fstat(fd, st) < 0)
        *problem = strerror(errno);
    else if (!S_ISREG(st->st_mode))
        *problem = "not a regular file";
    else if (st->st_mode & S_IWOTH)
        *problem = "file is world writable";
    else
        rc = 0;
    while (rc == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || text->len + (size_t)n > LOCAL_MAX_INCLUDE) {
            *problem = n < 0 ? strerror(errno) : "file too large";
            rc = -1;
        } else {
            str_appendn(text, buf, (size_t)n);
        }
    }
    close(fd);
    return rc;
}

int include_read(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                 const char *path, struct str *text)
{
    (void)p;
    struct stat st;
    const char *problem = NULL;
    if (path[0] != '/') {
        config_error(m, rc, path, "path is not absolute");
        return -1;
    }
    if (rc->depth >= LOCAL_MAX_DEPTH) {
        config_error(m, rc, path, "too many levels of nesting");
        return -1;
    }
    if (rc->have_owner && local_set_eugid(rc->owner_uid, rc->owner_gid) < 0) {
        local_report(m, rc, LOCAL_DEFERRED, "4.3.0", "cannot switch privileges: %s",
                     strerror(errno));
        return -1;
    }
    int r = include_open_read(path, &st, text, &problem);
    if (rc->have_owner)
        local_restore_eugid();
    if (r < 0) {
        config_error(m, rc, path, problem);
        return -1;
    }
    rc->owner_uid = st.st_uid;
    rc->owner_gid = st.st_gid;
    return 0;
}

/* An :include: target: read, then expand its lines one level deeper as the file's owner. */
static void expand_include(const struct local_params *p, struct mail_message *m,
                           struct local_rcpt *rc, const char *path)
{
    struct local_rcpt sub = *rc;
    struct str text = STR_INIT;
    if (include_read(p, m, &sub, path, &text) == 0) {
        uid_t owner = sub.owner_uid;
        sub.depth = rc->depth + 1;
        sub.exp_class = EXP_INCLUDE | (rc->exp_class & (EXP_ALIAS | EXP_FORWARD));
        sub.have_owner = 1;
        if (owner == 0) { /* root-owned: keep the including file's privileges */
            sub.owner_uid = rc->have_owner ? rc->owner_uid : p->default_uid;
            sub.owner_gid = rc->have_owner ? rc->owner_gid : p->default_gid;
        }
        struct argv *targets = alias_split(text.data ? text.data : "", 1);
        expand_targets(p, m, &sub, targets);
        argv_free(targets);
    }
    str_release(&text);
}

void expand_targets(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                    struct argv *targets)
{
    for (size_t i = 0; i < targets->n; i++) {
        const char *t = targets->v[i];
        if (++*rc->targets > LOCAL_MAX_TARGETS) {
            local_report(m, rc, LOCAL_BOUNCED, "5.3.5",
                         "mail system configuration error: too many alias targets");
            return;
        }
        if (t[0] == '|')
            command_deliver(p, m, rc, t + 1, NULL, NULL, NULL, NULL, 0);
        else if (t[0] == '/')
            file_deliver(p, m, rc, t);
        else if (strncasecmp(t, ":include:", 9) == 0)
            expand_include(p, m, rc, t + 9 + strspn(t + 9, " \t"));
        else if (t[0] == '\\')
            deliver_address(p, m, rc, t + 1, 1);
        else
            deliver_address(p, m, rc, t, 0);
    }
}
