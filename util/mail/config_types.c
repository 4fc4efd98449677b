/* config_types: typed parameter getters (boolean, integer, time, size) with Postfix's
 * validation and fatal messages. */
#include "mail/config.h"
#include "mail/params.h"

#include "base/log.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int config_parse_bool(const char *text, int *out)
{
    if (strcasecmp(text, "yes") == 0 || strcasecmp(text, "true") == 0)
        *out = 1;
    else if (strcasecmp(text, "no") == 0 || strcasecmp(text, "false") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

int config_parse_int(const char *text, long *out)
{
    char *end;
    errno = 0;
    if (*text == 0 || strchr(" \t", *text))
        return -1;
    long v = strtol(text, &end, 10);
    if (errno || *end != 0)
        return -1;
    *out = v;
    return 0;
}

static long unit_seconds(char unit)
{
    switch (unit) {
    case 's':
        return 1;
    case 'm':
        return 60;
    case 'h':
        return 3600;
    case 'd':
        return 86400;
    case 'w':
        return 7 * 86400;
    default:
        return 0;
    }
}

int config_parse_time(const char *text, char unit, long *out)
{
    char *end;
    if (*text < '0' || *text > '9')
        return -1;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno)
        return -1;
    char u = *end ? *end : (unit ? unit : 's');
    if (*end && end[1] != 0)
        return -1;
    long mult = unit_seconds((char)(u >= 'A' && u <= 'Z' ? u - 'A' + 'a' : u));
    if (mult == 0 || v > LONG_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

int config_parse_size(const char *text, long long *out)
{
    char *end;
    if (*text < '0' || *text > '9')
        return -1;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end != 0)
        return -1;
    *out = v;
    return 0;
}

static const char *must_get(const char *name)
{
    const char *v = config_get(name);
    if (v == NULL)
        msg_fatal("unknown configuration parameter: %s", name);
    return v;
}

int config_get_bool(const char *name)
{
    const char *v = must_get(name);
    int b;
    if (config_parse_bool(v, &b) != 0)
        msg_fatal("bad boolean configuration: %s = %s", name, v);
    return b;
}

long config_get_int(const char *name)
{
    const char *v = must_get(name);
    long n;
    if (config_parse_int(v, &n) != 0)
        msg_fatal("bad numerical configuration: %s = %s", name, v);
    return n;
}

long config_get_time(const char *name)
{
    const char *v = must_get(name);
    const struct param_def *p = param_lookup(name);
    char unit = p && p->type == PARAM_TIME && p->unit ? p->unit : 's';
    long t;
    if (config_parse_time(v, unit, &t) != 0)
        msg_fatal("parameter %s: bad time value or unit: %s", name, v);
    return t;
}

long long config_get_size(const char *name)
{
    const char *v = must_get(name);
    long long n;
    if (config_parse_size(v, &n) != 0)
        msg_fatal("bad numerical configuration: %s = %s", name, v);
    return n;
}
