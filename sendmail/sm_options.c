/* sm_options: the sendmail command line as Postfix's sendmail(1) accepts it, including the
 * mailq and newaliases personalities and the options that are accepted and ignored. */
#include "sendmail.h"

#include "base/log.h"
#include "mail/maildrop.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SM_ADDRESS_MAX 4000

int sm_address_ok(const char *addr)
{
    size_t n = strlen(addr);
    return n <= SM_ADDRESS_MAX && maildrop_text_ok(addr, n);
}

int sm_parse_notify(const char *text)
{
    static const struct {
        const char *name;
        int bit;
    } words[] = {{"never", DSN_NOTIFY_NEVER},
                 {"success", DSN_NOTIFY_SUCCESS},
                 {"delay", DSN_NOTIFY_DELAY},
                 {"failure", DSN_NOTIFY_FAILURE}};
    struct argv *list = argv_split(text, ", \t");
    int mask = list->n ? 0 : -1;
    for (size_t i = 0; i < list->n && mask >= 0; i++) {
        int bit = 0;
        for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
            if (strcasecmp(list->v[i], words[w].name) == 0)
                bit = words[w].bit;
        mask = bit ? mask | bit : -1;
    }
    argv_free(list);
    if (mask > 0 && (mask & DSN_NOTIFY_NEVER) && mask != DSN_NOTIFY_NEVER)
        mask = -1;
    return mask;
}

static int mode_option(struct sm_opts *o, const char *arg, struct str *err)
{
    static const struct {
        const char *name;
        enum sm_mode mode;
    } modes[] = {{"m", SM_MODE_DELIVER},
                 {"s", SM_MODE_SMTP},
                 {"p", SM_MODE_MAILQ},
                 {"i", SM_MODE_NEWALIASES},
                 {"v", SM_MODE_VERIFY}};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(arg, modes[i].name) == 0) {
            o->mode = modes[i].mode;
            return 0;
        }
    }
    str_setf(err, "unsupported: -b%s", arg);
    return -1;
}

static int queue_option(struct sm_opts *o, const char *arg, struct str *err)
{
    if (arg[0] == 'R' || arg[0] == 'S') {
        if (arg[1] == 0) {
            str_setf(err, "-q%c requires a site name", arg[0]);
            return -1;
        }
        o->queue_site = arg + 1;
    } else if (arg[0] == 'I') {
        o->queue_id = arg + 1;
    } else if (arg[0] && !isdigit((unsigned char)arg[0])) {
        str_setf(err, "unsupported: -q%s", arg);
        return -1;
    } else if (arg[0]) {
        return 0; /* -q<interval>: periodic runs are the queue manager's job */
    }
    o->mode = SM_MODE_FLUSH;
    return 0;
}

static int dsn_option(struct sm_opts *o, int c, const char *arg, struct str *err)
{
    if (c == 'N') {
        if ((o->notify = sm_parse_notify(arg)) < 0) {
            str_setf(err, "-N option: bad notify list: %s", arg);
            return -1;
        }
    } else if (c == 'R') {
        if (strcasecmp(arg, "full") != 0 && strcasecmp(arg, "hdrs") != 0) {
            str_setf(err, "-R option: bad return type: %s", arg);
            return -1;
        }
        o->ret = strcasecmp(arg, "full") == 0 ? "FULL" : "HDRS";
    } else if (c == 'V') {
        if (strlen(arg) > 100 || !maildrop_text_ok(arg, strlen(arg))) {
            str_setf(err, "-V option: bad envelope ID");
            return -1;
        }
        o->envid = arg;
    }
    return 0;
}

/* One option; returns 0 or -1 (err set). */
static int one_option(struct sm_opts *o, int c, const char *arg, struct str *err)
{
    switch (c) {
    case 'b':
        return mode_option(o, arg, err);
    case 'q':
        return queue_option(o, arg, err);
    case 'N':
    case 'R':
    case 'V':
        return dsn_option(o, c, arg, err);
    case 'f':
    case 'r':
        if (!sm_address_ok(arg)) {
            str_setf(err, "-%c option: bad sender address: control character or too long", c);
            return -1;
        }
        o->sender = arg;
        return 0;
    case 'F':
        if (!maildrop_text_ok(arg, strlen(arg)) || strlen(arg) > 1000) {
            str_setf(err, "-F option: bad full name");
            return -1;
        }
        o->fullname = arg;
        return 0;
    case 'C':
        o->config_dir = arg;
        return 0;
    case 't':
        o->extract = 1;
        return 0;
    case 'i':
        o->dot_ok = 1;
        return 0;
    case 'o':
        if (arg[0] == 'i' && arg[1] == 0)
            o->dot_ok = 1;
        return 0; /* other -o options are ignored, as Postfix does */
    case 'v':
        msg_verbose++;
        return 0;
    }
    return 0; /* -B -X -L -O -e -h -p -c -m -n -x -G -I -U: accepted, ignored */
}

int sm_parse_args(int argc, char **argv, struct sm_opts *o, struct str *err)
{
    memset(o, 0, sizeof(*o));
    o->rcpts = argv_new();
    const char *slash = strrchr(argv[0], '/');
    const char *name = slash ? slash + 1 : argv[0];
    if (strcmp(name, "mailq") == 0)
        o->mode = SM_MODE_MAILQ;
    else if (strcmp(name, "newaliases") == 0)
        o->mode = SM_MODE_NEWALIASES;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt(argc, argv, "B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q::tvx")) != -1) {
        if (c == '?' || c == ':') {
            str_setf(err, "usage: sendmail [options] [recipient ...]: bad option -%c", optopt);
            return -1;
        }
        if (one_option(o, c, optarg ? optarg : "", err) < 0)
            return -1;
    }
    for (int i = optind; i < argc; i++) {
        if (!sm_address_ok(argv[i])) {
            str_setf(err, "bad recipient address: control character or too long");
            return -1;
        }
        argv_add(o->rcpts, argv[i]);
    }
    return 0;
}
