/* postconf: the modules of the postconf command: main.cf display and editing (pc_main.c),
 * master.cf display and editing (pc_master.c) and output helpers. */
#ifndef KESTREL_POSTCONF_H
#define KESTREL_POSTCONF_H

#include "base/str.h"

#include <stdio.h>

enum {
    PC_DEFAULTS = 1 << 0, /* -d */
    PC_NONDEF = 1 << 1,   /* -n */
    PC_VALUES = 1 << 2,   /* -h */
    PC_NAMES = 1 << 3,    /* -H */
    PC_EXPAND = 1 << 4,   /* -x */
    PC_FOLD = 1 << 5,     /* -f */
};

/* Print "name = value" (or the parts -h/-H select), folded at 80 columns with -f. */
void pc_print(FILE *fp, int flags, const char *name, const char *value);

/* main.cf: show parameters (all when argc == 0); returns the exit status. */
int pc_show_main(int flags, int argc, char **argv);
/* main.cf edits: -e (name=value arguments), -X, -#. */
int pc_edit_main(int op, int argc, char **argv);

/* master.cf: mode 'M', 'F' or 'P'. */
int pc_show_master(int mode, int flags, int argc, char **argv);
/* edit: 'e', 'X' or '#'. */
int pc_edit_master(int mode, int edit, int argc, char **argv);

/* Path of a file in the configuration directory. */
void pc_config_path(struct str *out, const char *file);

#endif
