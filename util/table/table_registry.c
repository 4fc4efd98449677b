/* table_registry: the list of table types. Adding a type is one file and one line here. */
#include "table/table.h"
#include "table/table_types.h"

#include <string.h>

static const struct table_type registry[] = {
    {"btree", table_btree_open},       {"cidr", table_cidr_open},
    {"environ", table_environ_open},   {"hash", table_hash_open},
    {"inline", table_inline_open},     {"pcre", table_pcre_open},
    {"pipemap", table_pipemap_open},   {"regexp", table_regexp_open},
    {"static", table_static_open},     {"fail", table_fail_open},
    {"texthash", table_texthash_open}, {"unionmap", table_unionmap_open},
    {"unix", table_unix_open},
};

#define REGISTRY_SIZE (sizeof(registry) / sizeof(registry[0]))

const struct table_type *table_type_find(const char *name)
{
    for (size_t i = 0; i < REGISTRY_SIZE; i++)
        if (strcmp(registry[i].name, name) == 0)
            return &registry[i];
    return NULL;
}

const char *const *table_type_names(void)
{
    static const char *names[REGISTRY_SIZE + 1];
    for (size_t i = 0; i < REGISTRY_SIZE; i++)
        names[i] = registry[i].name;
    names[REGISTRY_SIZE] = NULL;
    return names;
}
