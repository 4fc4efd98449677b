/* recipient: the heart of local delivery: an address is split into user, extension and
 * domain; then aliases, the user's .forward file, and finally the mailbox are tried, with
 * loop detection along the expansion path and a duplicate filter for terminal targets. */
#include "local.h"

#include "base/log.h"
#include "base/mem.h"
#include "table/table.h"

#include <stdio.h>
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void recipient_split(const struct local_params *p, const char *address, struct str *user,
                     struct str *ext, struct str *domain)
{
    const char *at = strrchr(address, '@');
    size_t llen = at ? (size_t)(at - address) : strlen(address);
    str_clear(user);
    str_clear(ext);
    str_clear(domain);
    str_appendn(user, address, llen);
    str_lower(user);
    if (at)
        str_append(domain, at + 1);
    str_lower(domain);
    const char *delims = p->recipient_delimiter ? p->recipient_delimiter : "";
    if (*delims == 0 || user->len == 0)
        return;
    /* The first delimiter byte splits; a local part that starts with one keeps it. */
    size_t cut = strcspn(user->data + 1, delims) + 1;
    if (cut < user->len) {
        str_append(ext, user->data + cut + 1);
        str_truncate(user, cut);
    }
}

int recipient_domain_is_local(const struct local_params *p, const char *domain)
{
    if (*domain == 0 || (p->myhostname && strcasecmp(domain, p->myhostname) == 0))
        return 1;
    for (size_t i = 0; p->local_domains && i < p->local_domains->n; i++)
        if (strcasecmp(p->local_domains->v[i], domain) == 0)
            return 1;
    return 0;
}

int local_user_find(const char *name, struct local_user *u)
{
    errno = 0;
    struct passwd *pw = getpwnam(name);
    if (pw == NULL)
        return -1;
    u->name = xstrdup(pw->pw_name);
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    u->home = xstrdup(pw->pw_dir ? pw->pw_dir : "/");
    u->shell = xstrdup(pw->pw_shell ? pw->pw_shell : "");
    return 0;
}

void local_user_free(struct local_user *u)
{
    free(u->name);
    free(u->home);
    free(u->shell);
    memset(u, 0, sizeof(*u));
}

static int argv_has(const struct argv *a, const char *s)
{
    for (size_t i = 0; a && i < a->n; i++)
        if (strcmp(a->v[i], s) == 0)
            return 1;
    return 0;
}

/* Expands the nested targets of an alias or .forward at depth + 1 as owner. */
static void expand_nested(const struct local_params *p, struct mail_message *m,
                          struct local_rcpt *rc, const char *text, int exp_class, int is_file,
                          uid_t owner, gid_t gowner)
{
    struct local_rcpt sub = *rc;
    sub.depth = rc->depth + 1;
    sub.exp_class = exp_class;
    sub.have_owner = 1;
    sub.owner_uid = owner == 0 ? p->default_uid : owner;
    sub.owner_gid = owner == 0 ? p->default_gid : gowner;
    struct argv *targets = alias_split(text, is_file);
    expand_targets(p, m, &sub, targets);
    argv_free(targets);
}

/* Alias lookup with the extension first ("user+ext", then "user"). 1 done, 0 not found. */
static int try_alias(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                     const struct str *user, const struct str *local)
{
    struct str value = STR_INIT;
    uid_t owner = 0;
    gid_t gowner = 0;
    int found = TABLE_NOTFOUND;
    if (local->len > user->len)
        found = alias_lookup(p, local->data, &value, &owner, &gowner);
    if (found == TABLE_NOTFOUND)
        found = alias_lookup(p, user->data, &value, &owner, &gowner);
    if (found == TABLE_ERROR)
        local_report(m, rc, LOCAL_DEFERRED, "4.3.0", "alias database unavailable: %s",
                     str_cstr(&value));
    else if (found == TABLE_FOUND)
        expand_nested(p, m, rc, value.data, EXP_ALIAS, 0, owner, gowner);
    str_release(&value);
    return found != TABLE_NOTFOUND;
}

/* The user's .forward files per forward_path. 1 done, 0 none. */
static int try_forward(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                       const struct local_user *u, const struct str *ext, const struct str *domain,
                       const char *address)
{
    const char *names[] = {"home",   "user",  "extension", "recipient_delimiter",
                           "domain", "local", "recipient", "shell",
                           NULL};
    const char *values[] = {u->home,
                            u->name,
                            str_cstr(ext),
                            ext->len ? p->recipient_delimiter : "",
                            str_cstr(domain),
                            u->name,
                            address,
                            u->shell,
                            NULL};
    struct argv *paths = forward_paths(p->forward_path ? p->forward_path : "", names, values);
    struct str text = STR_INIT, why = STR_INIT;
    int done = 0;
    for (size_t i = 0; i < paths->n && !done; i++) {
        int rcode;
        if (local_set_eugid(u->uid, u->gid) < 0) {
            rcode = -1;
            str_setf(&why, "cannot switch to user %s: %s", u->name, strerror(errno));
        } else {
            rcode = forward_read(paths->v[i], geteuid() == 0 || getuid() == 0 ? u->uid : geteuid(),
                                 &text, &why);
            local_restore_eugid();
        }
        if (rcode < 0) {
            local_report(m, rc, LOCAL_DEFERRED, "4.3.0", "cannot use %s: %s", paths->v[i],
                         str_cstr(&why));
            done = 1;
        } else if (rcode > 0) {
            expand_nested(p, m, rc, text.data, EXP_FORWARD, 1, u->uid, u->gid);
            done = 1;
        }
    }
    argv_free(paths);
    str_release(&text);
    str_release(&why);
    return done;
}

/* No such user: luser_relay, or a 5.1.1 bounce. */
static void unknown_user(const struct local_params *p, struct mail_message *m,
                         struct local_rcpt *rc, const struct str *user, const struct str *ext,
                         const struct str *domain, const char *address)
{
    if (p->luser_relay && *p->luser_relay && rc->depth < LOCAL_MAX_DEPTH) {
        const char *names[] = {
            "user", "local", "extension", "domain", "recipient", "recipient_delimiter", NULL};
        const char *values[] = {user->data,    user->data,
                                str_cstr(ext), str_cstr(domain),
                                address,       ext->len ? p->recipient_delimiter : "",
                                NULL};
        struct argv *relay = forward_paths(p->luser_relay, names, values);
        struct local_rcpt sub = *rc;
        sub.depth = rc->depth + 1;
        for (size_t i = 0; i < relay->n; i++)
            deliver_address(p, m, &sub, relay->v[i], 1);
        argv_free(relay);
        return;
    }
    local_report(m, rc, LOCAL_BOUNCED, "5.1.1", "unknown user: \"%s\"", user->data);
}

void deliver_address(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                     const char *address, int no_alias)
{
    struct str user = STR_INIT, ext = STR_INIT, domain = STR_INIT, full = STR_INIT, key = STR_INIT;
    recipient_split(p, address, &user, &ext, &domain);
    if (domain.len == 0)
        str_set(&domain, p->myorigin ? p->myorigin : p->myhostname);
    /* user, the delimiter byte the address used, the extension: the full local part. */
    str_append(&full, str_cstr(&user));
    if (ext.len) {
        str_appendc(&full, address[user.len]);
        str_append(&full, ext.data);
    }
    str_set(&key, full.data);
    str_appendf(&full, "@%s", domain.data);
    struct local_rcpt here = *rc;
    here.address = full.data;
    if (!recipient_domain_is_local(p, domain.data)) {
        if (rc->forward_to->n < LOCAL_MAX_TARGETS && !argv_has(rc->forward_to, address))
            argv_add(rc->forward_to, address);
        goto out;
    }
    str_lower(&key);
    if (rc->path->n > 0 && argv_has(rc->path, key.data)) {
        if (strcmp(rc->path->v[rc->path->n - 1], key.data) == 0) {
            no_alias = 1; /* an alias or .forward naming itself: the mailbox */
        } else {
            local_report(m, &here, LOCAL_BOUNCED, "5.4.6", "mail forwarding loop for %s",
                         full.data);
            goto out;
        }
    } else if (message_has_delivered(m, full.data) || rc->depth >= LOCAL_MAX_DEPTH) {
        local_report(m, &here, LOCAL_BOUNCED, "5.4.6", "mail forwarding loop for %s", full.data);
        goto out;
    }
    size_t mark = rc->path->n;
    if (!no_alias || mark == 0 || strcmp(rc->path->v[mark - 1], key.data) != 0)
        argv_add(rc->path, key.data);
    if (!no_alias && try_alias(p, m, &here, &user, &key))
        goto pop;
    struct local_user u = {0};
    if (local_user_find(user.data, &u) < 0) {
        if (!no_alias)
            unknown_user(p, m, &here, &user, &ext, &domain, full.data);
        else
            local_report(m, &here, LOCAL_BOUNCED, "5.1.1", "unknown user: \"%s\"", user.data);
        goto pop;
    }
    if (no_alias || !try_forward(p, m, &here, &u, &ext, &domain, full.data))
        deliver_mailbox(p, m, &here, &u, user.data, ext.data ? ext.data : "", domain.data);
    local_user_free(&u);
pop:
    while (rc->path->n > mark) {
        free(rc->path->v[--rc->path->n]);
        rc->path->v[rc->path->n] = NULL;
    }
out:
    str_release(&user);
    str_release(&ext);
    str_release(&domain);
    str_release(&full);
    str_release(&key);
}

/* Mailbox delivery: mailbox_command, home_mailbox (mbox or maildir), or the spool. */
void deliver_mailbox(const struct local_params *p, struct mail_message *m, struct local_rcpt *rc,
                     const struct local_user *u, const char *user_part, const char *ext,
                     const char *domain)
{
    struct str seen = STR_INIT, path = STR_INIT, reason = STR_INIT;
    char dsn[16];
    struct mailbox_opts mo = local_mailbox_opts(p);
    str_setf(&seen, "mailbox:%s", u->name);
    if (argv_has(rc->seen, seen.data))
        goto out;
    argv_add(rc->seen, seen.data);
    if (p->mailbox_command && *p->mailbox_command) {
        command_deliver(p, m, rc, p->mailbox_command, u, user_part, ext, domain, 1);
        goto out;
    }
    const char *hm = p->home_mailbox ? p->home_mailbox : "";
    const char *spool = p->mail_spool_directory;
    int in_spool = *hm == 0;
    /* A name ending in '/' (home_mailbox, or mail_spool_directory) means Maildir. */
    int maildir = in_spool ? *spool && spool[strlen(spool) - 1] == '/' : hm[strlen(hm) - 1] == '/';
    if (in_spool)
        str_setf(&path, maildir ? "%s%s/" : "%s/%s", spool, u->name);
    else
        str_setf(&path, "%s/%s", u->home, hm);
    int root = geteuid() == 0;
    uid_t owner = root ? u->uid : geteuid();
    gid_t gowner = root ? u->gid : getegid();
    /* The spool is written with our privileges (the file is chowned to the user); home
     * mailboxes with the user's. */
    if (!in_spool && local_set_eugid(u->uid, u->gid) < 0) {
        local_report(m, rc, LOCAL_DEFERRED, "4.3.0", "cannot switch to user %s: %s", u->name,
                     strerror(errno));
        goto out;
    }
    int st = maildir ? maildir_deliver(&mo, m, path.data, rc->address, rc->orig, dsn, sizeof(dsn),
                                       &reason)
                     : mbox_deliver(&mo, m, path.data, owner, gowner, rc->address, rc->orig,
                                    COPY_MBOX, dsn, sizeof(dsn), &reason);
    if (!in_spool)
        local_restore_eugid();
    if (st == LOCAL_SENT)
        local_report(m, rc, st, dsn, maildir ? "delivered to maildir" : "delivered to mailbox");
    else
        local_report(m, rc, st, dsn, "%s", reason.data);
out:
    str_release(&seen);
    str_release(&path);
    str_release(&reason);
}
