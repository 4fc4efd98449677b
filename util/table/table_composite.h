/* table_composite: opening the member tables of "unionmap:{a:x, b:y}" / "pipemap:{...}". */
#ifndef KESTREL_TABLE_COMPOSITE_H
#define KESTREL_TABLE_COMPOSITE_H

#include "table/table.h"

#include <stddef.h>

#define TABLE_COMPOSITE_MAX_DEPTH 16
#define TABLE_COMPOSITE_MAX_MEMBERS 100

struct table_list {
    struct table **t;
    size_t n;
};

/* Opens every "type:name" inside the braces of name. 0, or -1 with err set. */
int table_list_open(const char *type, const char *name, int flags, struct table_list *out,
                    struct str *err);
void table_list_close(struct table_list *l);
/* 1 if any member changed. */
int table_list_changed(struct table_list *l);
/* Copies a member's error text into the composite and returns TABLE_ERROR. */
int table_list_fail(struct table *t, struct table *member);

#endif
