/* queue_id: making and validating queue IDs, and mapping them to hashed queue paths. */
#include "mail/queue_id.h"

#include "base/argv.h"

#include <ctype.h>
#include <string.h>

static const char base52[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxy"
                             "z";
/* base51 is base52 without the final 'z', which separates the time from the inode. */

static void append_base(struct str *out, unsigned long long v, unsigned base, int width)
{
    char digits[32];
    int n = 0;
    do {
        digits[n++] = base52[v % base];
        v /= base;
    } while (v && n < (int)sizeof(digits));
    while (n < width)
        digits[n++] = '0';
    while (n > 0)
        str_appendc(out, digits[--n]);
}

void queue_id_make(struct str *out, ino_t inode, long sec, long usec, int long_ids)
{
    str_clear(out);
    if (long_ids) {
        append_base(out, (unsigned long long)sec, 52, 6);
        append_base(out, (unsigned long long)usec, 52, 4);
        str_appendc(out, 'z');
        append_base(out, (unsigned long long)inode, 51, 1);
    } else {
        str_appendf(out, "%05lX%llX", usec & 0xfffff, (unsigned long long)inode);
    }
}

static int all_in(const char *p, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == 0 || strchr(set, p[i]) == NULL)
            return 0;
    return 1;
}

int queue_id_valid(const char *text)
{
    size_t len = strlen(text);
    if (len < 6 || len > QUEUE_ID_MAX)
        return 0;
    const char *z = strchr(text, 'z');
    if (z == NULL)
        return all_in(text, len, "0123456789ABCDEF");
    size_t head = (size_t)(z - text);
    return head == 10 && all_in(text, head, base52) && len > 11 &&
           all_in(z + 1, len - 11, "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxy");
}

static int is_hashed(const char *queue, const char *names)
{
    struct argv *list = argv_split(names, ", \t\r\n");
    int found = 0;
    for (size_t i = 0; i < list->n && !found; i++)
        found = strcmp(list->v[i], queue) == 0;
    argv_free(list);
    return found;
}

void queue_path(struct str *out, const char *queue, const char *id, const char *hash_queue_names,
                int depth)
{
    str_clear(out);
    str_append(out, queue);
    if (is_hashed(queue, hash_queue_names)) {
        /* Long IDs hash on the microsecond digits, which vary; short IDs on the first digits. */
        const char *z = strchr(id, 'z');
        const char *h = z && z - id == 10 ? id + 6 : id;
        for (int i = 0; i < depth && h[i] && h[i] != 'z'; i++)
            str_appendf(out, "/%c", h[i]);
    }
    str_appendc(out, '/');
    str_append(out, id);
}
