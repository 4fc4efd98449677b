/* mem: allocation helpers that never return NULL; out of memory is fatal. */
#ifndef KESTREL_BASE_MEM_H
#define KESTREL_BASE_MEM_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grow an array to hold at least `need` elements of `elem` bytes; updates *cap. Overflow is fatal.
 */
void *xgrow(void *ptr, size_t *cap, size_t need, size_t elem);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);
void *xmemdup(const void *p, size_t len);

#endif
