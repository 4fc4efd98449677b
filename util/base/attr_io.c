/* attr_io: the stream side of the attribute protocol. */
#include "base/attr_io.h"

#include <string.h>

const struct attr_limits attr_default_limits = {65536, 1024};

int attr_send(struct stream *s, const struct attr_list *a)
{
    struct str wire = STR_INIT;
    attr_encode(a, &wire);
    stream_write(s, wire.data, wire.len);
    str_release(&wire);
    return stream_flush(s);
}

static const char *read_failure(struct stream *s, int rc)
{
    if (rc == STREAM_TIMEOUT)
        return "timeout";
    if (rc == STREAM_PARTIAL)
        return "attribute line too long";
    (void)s;
    return "lost connection";
}

int attr_recv(struct stream *s, struct attr_list *a, const struct attr_limits *lim, struct str *err)
{
    struct str line = STR_INIT, name = STR_INIT, value = STR_INIT;
    int result = -1;
    attr_list_clear(a);
    for (;;) {
        str_clear(&line);
        int rc = stream_getline(s, &line, lim->max_line + 1);
        if (rc != STREAM_LINE) {
            str_set(err, read_failure(s, rc));
            break;
        }
        line.len--; /* the '\n' */
        if (line.len == 0) {
            result = 0;
            break;
        }
        if (a->names->n >= lim->max_attrs) {
            str_set(err, "too many attributes");
            break;
        }
        if (attr_decode_line(line.data, line.len, &name, &value, err) < 0)
            break;
        attr_addn(a, str_cstr(&name), value.data ? value.data : "", value.len);
    }
    str_release(&line);
    str_release(&name);
    str_release(&value);
    return result;
}

int attr_send_protocol(struct stream *s, const char *protocol)
{
    struct attr_list *a = attr_list_new();
    attr_add(a, "protocol", protocol);
    int rc = attr_send(s, a);
    attr_list_free(a);
    return rc;
}

int attr_expect_protocol(struct stream *s, const char *protocol, struct str *err)
{
    struct attr_list *a = attr_list_new();
    int rc = attr_recv(s, a, &attr_default_limits, err);
    if (rc == 0) {
        const char *got = attr_get(a, "protocol");
        if (got == NULL || strcmp(got, protocol) != 0 || a->names->n != 1) {
            str_setf(err, "unexpected protocol: %s (expected %s)", got ? got : "(none)", protocol);
            rc = -1;
        }
    }
    attr_list_free(a);
    return rc;
}
