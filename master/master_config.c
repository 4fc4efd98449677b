/* master_config: the set of running services — built from master.cf at start, changed in place
 * on reload (new services start, removed ones stop, changed ones take their new settings) while
 * listeners of unchanged services stay open, so no client sees a refused connection. */
#include "master.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"
#include "mail/config_check.h"

#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct master_service *master_services;

static struct mastercf *read_master_cf(struct str *err)
{
    struct str path = STR_INIT;
    str_setf(&path, "%s/master.cf", config_directory());
    struct mastercf *m = mastercf_read(str_cstr(&path), err);
    str_release(&path);
    return m;
}

static struct master_service *find_service(struct master_service *list, const char *key)
{
    for (; list; list = list->next)
        if (strcmp(list->key, key) == 0)
            return list;
    return NULL;
}

/* Opens a new service's listeners and starts watching it. */
static int activate(struct event_loop *loop, struct master_service *s, struct str *err)
{
    if (master_listen_open(s, err) < 0) {
        master_listen_close(s);
        return -1;
    }
    master_status_watch(loop, s);
    master_avail_update(loop, s);
    master_wakeup_start(loop, s);
    return 0;
}

/* Stops a service: no new clients; its children finish their work and exit. */
static void deactivate(struct event_loop *loop, struct master_service *s)
{
    s->removed = 1;
    master_avail_update(loop, s);
    master_wakeup_stop(loop, s);
    master_cancel_throttle(loop, s);
    master_listen_close(s);
    master_signal_children(s, SIGHUP);
}

static void discard_service(struct event_loop *loop, struct master_service *s)
{
    master_status_unwatch(loop, s);
    master_service_free(s);
}

void master_config_forget(struct event_loop *loop, struct master_service *s)
{
    for (struct master_service **pp = &master_services; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    discard_service(loop, s);
}

/* Builds the service list of a master.cf; NULL (err set) if any entry is unusable. */
static struct master_service *build_services(const struct mastercf *m, struct str *err)
{
    struct master_service *list = NULL, **tail = &list;
    for (size_t i = 0; i < m->n; i++) {
        struct master_service *s = master_service_new(&m->v[i], err);
        if (s == NULL) {
            while (list) {
                struct master_service *next = list->next;
                master_service_free(list);
                list = next;
            }
            return NULL;
        }
        *tail = s;
        tail = &s->next;
    }
    return list;
}

int master_config_start(struct event_loop *loop, struct str *err)
{
    struct mastercf *m = read_master_cf(err);
    if (m == NULL)
        return -1;
    master_services = build_services(m, err);
    mastercf_free(m);
    if (master_services == NULL && err->len)
        return -1;
    for (struct master_service *s = master_services; s; s = s->next) {
        if (activate(loop, s, err) < 0) {
            struct str why = STR_INIT;
            str_setf(&why, "service %s: %s", s->key, str_cstr(err));
            str_set(err, str_cstr(&why));
            str_release(&why);
            return -1;
        }
    }
    return 0;
}

/* Moves the settings of `fresh` into the running service `old` (which keeps its sockets). */
static void update_service(struct event_loop *loop, struct master_service *old,
                           struct master_service *fresh)
{
    old->max_proc = fresh->max_proc;
    old->unpriv_flag = fresh->unpriv_flag;
    old->chroot_flag = fresh->chroot_flag;
    struct argv *tmp = old->args;
    old->args = fresh->args;
    fresh->args = tmp;
    char *path = old->path;
    old->path = fresh->path;
    fresh->path = path;
    if (old->wakeup != fresh->wakeup || old->wakeup_if_used != fresh->wakeup_if_used) {
        master_wakeup_stop(loop, old);
        old->wakeup = fresh->wakeup;
        old->wakeup_if_used = fresh->wakeup_if_used;
        master_wakeup_start(loop, old);
    }
    master_service_free(fresh);
    master_avail_update(loop, old);
}

/* Services in the old list but not in the new one stop; the rest are updated or started. */
static void apply_services(struct event_loop *loop, struct master_service *fresh_list)
{
    struct master_service *kept = NULL, **tail = &kept;
    for (struct master_service *s = master_services, *next; s; s = next) {
        next = s->next;
        s->next = NULL;
        if (find_service(fresh_list, s->key) == NULL && !s->removed) {
            deactivate(loop, s);
            if (s->total == 0) { /* not on any list at this point */
                discard_service(loop, s);
                continue;
            }
        }
        *tail = s;
        tail = &s->next;
    }
    for (struct master_service *f = fresh_list, *next; f; f = next) {
        next = f->next;
        f->next = NULL;
        struct master_service *old = find_service(kept, f->key);
        struct str err = STR_INIT;
        if (old && !old->removed) {
            update_service(loop, old, f);
        } else if (activate(loop, f, &err) < 0) {
            msg_warn("service %s: %s", f->key, str_cstr(&err));
            master_service_free(f);
        } else {
            *tail = f;
            tail = &f->next;
        }
        str_release(&err);
    }
    master_services = kept;
}

/* Checks the configuration on disk in a child process, so that a broken one never replaces
 * the running configuration in master's memory (util/mail/config_check.h). Returns 0 when it
 * is sound; otherwise each problem is logged. */
static int validate_on_disk(const char *dir)
{
    int p[2];
    if (pipe(p) < 0)
        return 0; /* cannot check: fall back to config_load's own syntax checks */
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        struct argv *errors = argv_new();
        int n = config_check_dir(dir, errors);
        for (size_t i = 0; i < errors->n; i++)
            dprintf(p[1], "%s\n", errors->v[i]);
        _exit(n > 0 ? 1 : 0);
    }
    close(p[1]);
    struct str out = STR_INIT;
    char buf[4096];
    ssize_t n;
    while (pid > 0 && (n = read(p[0], buf, sizeof(buf))) > 0 && out.len < 65536)
        str_appendn(&out, buf, (size_t)n);
    close(p[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    struct argv *lines = argv_split(str_cstr(&out), "\n");
    for (size_t i = 0; i < lines->n; i++)
        msg_warn("%s", lines->v[i]);
    argv_free(lines);
    str_release(&out);
    return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

void master_config_reload(struct event_loop *loop)
{
    struct str err = STR_INIT;
    struct mastercf *m = NULL;
    struct master_service *fresh = NULL;
    char *dir = xstrdup(config_directory()); /* config_load replaces the string */
    if (validate_on_disk(dir) < 0) {
        msg_warn("reload failed, keeping the running configuration: configuration errors");
        free(dir);
        return;
    }
    if (config_load(dir, &err) < 0 || (m = read_master_cf(&err)) == NULL ||
        ((fresh = build_services(m, &err)) == NULL && err.len)) {
        msg_warn("reload failed, keeping the running configuration: %s", str_cstr(&err));
    } else {
        /* Every child finishes its current client and exits; new ones read the new files. */
        master_signal_all(SIGHUP);
        apply_services(loop, fresh);
        msg_info("reload -- version %s, configuration %s", config_get("mail_version"),
                 config_directory());
    }
    mastercf_free(m);
    str_release(&err);
    free(dir);
}

void master_config_stop(struct event_loop *loop)
{
    for (struct master_service *s = master_services; s; s = s->next) {
        master_wakeup_stop(loop, s);
        master_listen_close(s);
    }
    master_signal_all(SIGTERM);
}
