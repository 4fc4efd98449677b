/* postalias: the few main.cf parameters postalias reads (postalias_config.c). */
#ifndef KESTREL_POSTALIAS_H
#define KESTREL_POSTALIAS_H

/* Loads main.cf from config_dir (NULL: $MAIL_CONFIG or the default); fatal on error. */
void postalias_config_load(const char *config_dir);
/* default_database_type: the table type for file names given without "type:". */
const char *postalias_default_type(void);

#endif
