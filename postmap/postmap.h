/* postmap: the few main.cf parameters postmap reads (postmap_config.c). */
#ifndef KESTREL_POSTMAP_H
#define KESTREL_POSTMAP_H

/* Loads main.cf from config_dir (NULL: $MAIL_CONFIG or the default); fatal on error. */
void postmap_config_load(const char *config_dir);
/* default_database_type: the table type for file names given without "type:". */
const char *postmap_default_type(void);

#endif
