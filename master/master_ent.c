/* master_ent: turns a master.cf entry into a service description (daemon path, arguments,
 * flags, process limit), resolving "-" defaults from main.cf. */
#include "master.h"

#include "base/log.h"
#include "base/mem.h"
#include "mail/config.h"

#include <stdlib.h>
#include <string.h>

struct master_service *master_service_new(const struct mastercf_entry *e, struct str *err)
{
    if (e->argv->n == 0) {
        str_setf(err, "line %d: missing command", e->line);
        return NULL;
    }
    struct master_service *s = xcalloc(1, sizeof(*s));
    s->name = xstrdup(e->field[MCF_SERVICE]);
    s->type = xstrdup(e->field[MCF_TYPE]);
    struct str key = STR_INIT;
    str_setf(&key, "%s/%s", s->name, s->type);
    s->key = str_steal(&key);
    const char *cmd = e->argv->v[0];
    struct str path = STR_INIT;
    if (cmd[0] == '/')
        str_set(&path, cmd);
    else
        str_setf(&path, "%s/%s", config_get("daemon_directory"), cmd);
    s->path = str_steal(&path);
    s->args = argv_new();
    for (size_t i = 1; i < e->argv->n; i++)
        argv_add(s->args, e->argv->v[i]);
    s->private_flag = e->private_flag;
    s->unpriv_flag = e->unpriv_flag;
    s->chroot_flag = e->chroot_flag;
    s->wakeup = e->wakeup;
    s->wakeup_if_used = e->wakeup_if_used;
    s->max_proc =
        e->process_limit < 0 ? (int)config_get_int("default_process_limit") : e->process_limit;
    s->status_fd[0] = s->status_fd[1] = -1;
    return s;
}

void master_service_free(struct master_service *s)
{
    if (s == NULL)
        return;
    free(s->key);
    free(s->name);
    free(s->type);
    free(s->path);
    free(s->endpoint);
    argv_free(s->args);
    str_release(&s->status_buf);
    free(s);
}

static int same_args(const struct argv *a, const struct argv *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return 0;
    return 1;
}

int master_service_same(const struct master_service *a, const struct master_service *b)
{
    return strcmp(a->path, b->path) == 0 && same_args(a->args, b->args) &&
           a->private_flag == b->private_flag && a->unpriv_flag == b->unpriv_flag &&
           a->chroot_flag == b->chroot_flag;
}
