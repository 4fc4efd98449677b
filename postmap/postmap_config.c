/* postmap_config: main.cf parameters used by postmap (default_database_type). */
#include "postmap.h"

void postmap_config_load(const char *config_dir)
{
    (void)config_dir;
}

const char *postmap_default_type(void)
{
    return "hash";
}
