/* table_types: the open functions of the built-in table types, for the registry only. */
#ifndef KESTREL_TABLE_TYPES_H
#define KESTREL_TABLE_TYPES_H

#include "table/table.h"

struct table *table_static_open(const char *name, int flags, struct str *err);
struct table *table_inline_open(const char *name, int flags, struct str *err);
struct table *table_fail_open(const char *name, int flags, struct str *err);

#endif
