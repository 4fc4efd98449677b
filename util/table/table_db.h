/* table_db: Berkeley DB tables (hash:, btree:) as files "name.db", shared by table_hash.c and
 * table_btree.c. */
#ifndef KESTREL_TABLE_DB_H
#define KESTREL_TABLE_DB_H

#include "table/table.h"

/* dbtype: DB_HASH or DB_BTREE (from <db.h>), passed as int to keep <db.h> out of callers. */
struct table *table_db_open(const char *type, int dbtype, const char *name, int flags,
                            struct str *err);

#endif
