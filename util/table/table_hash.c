/* table_hash: "hash:/etc/postfix/access" — a Berkeley DB hash file access.db (see table_db.c). */
#include "table/table_db.h"
#include "table/table_types.h"

#include <db.h>

struct table *table_hash_open(const char *name, int flags, struct str *err)
{
    return table_db_open("hash", DB_HASH, name, flags, err);
}
