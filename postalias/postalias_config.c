/* postalias_config: main.cf parameters used by postalias (default_database_type). */
#include "postalias.h"

void postalias_config_load(const char *config_dir)
{
    (void)config_dir;
}

const char *postalias_default_type(void)
{
    return "hash";
}
