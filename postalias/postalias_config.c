/* postalias_config: main.cf parameters used by postalias (default_database_type). */
#include "postalias.h"

#include "mail/config.h"

#include "base/log.h"

void postalias_config_load(const char *config_dir)
{
    struct str err = STR_INIT;
    if (config_load(config_dir, &err) != 0)
        msg_fatal("%s", str_cstr(&err));
    str_release(&err);
}

const char *postalias_default_type(void)
{
    const char *type = config_get("default_database_type");
    return type && *type ? type : "hash";
}
