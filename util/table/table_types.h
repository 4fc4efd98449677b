/* table_types: the open functions of the built-in table types, for the registry only. */
#ifndef KESTREL_TABLE_TYPES_H
#define KESTREL_TABLE_TYPES_H

#include "table/table.h"

struct table *table_static_open(const char *name, int flags, struct str *err);
struct table *table_inline_open(const char *name, int flags, struct str *err);
struct table *table_fail_open(const char *name, int flags, struct str *err);
struct table *table_hash_open(const char *name, int flags, struct str *err);
struct table *table_btree_open(const char *name, int flags, struct str *err);
struct table *table_texthash_open(const char *name, int flags, struct str *err);
struct table *table_regexp_open(const char *name, int flags, struct str *err);
struct table *table_pcre_open(const char *name, int flags, struct str *err);
struct table *table_cidr_open(const char *name, int flags, struct str *err);
struct table *table_environ_open(const char *name, int flags, struct str *err);
struct table *table_unix_open(const char *name, int flags, struct str *err);
struct table *table_unionmap_open(const char *name, int flags, struct str *err);
struct table *table_pipemap_open(const char *name, int flags, struct str *err);

#endif
