/* table_btree: "btree:/etc/postfix/access" — a Berkeley DB B-tree file access.db (table_db.c). */
#include "table/table_db.h"
#include "table/table_types.h"

#include <db.h>

struct table *table_btree_open(const char *name, int flags, struct str *err)
{
    return table_db_open("btree", DB_BTREE, name, flags, err);
}
