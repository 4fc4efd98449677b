/* argv: NULL-terminated, growable arrays of owned strings (argument vectors, word lists). */
#ifndef KESTREL_BASE_ARGV_H
#define KESTREL_BASE_ARGV_H

#include <stddef.h>

struct argv {
    char **v; /* always NULL-terminated */
    size_t n;
    size_t cap;
};

struct argv *argv_new(void);
void argv_free(struct argv *a);
void argv_add(struct argv *a, const char *s);
void argv_addn(struct argv *a, const char *s, size_t len);
void argv_add_owned(struct argv *a, char *s);
void argv_clear(struct argv *a);
/* Split text at any of the delimiter bytes, dropping empty fields. */
struct argv *argv_split(const char *text, const char *delims);

#endif
