/* table: lookup tables behind one interface, opened by "type:name" as in Postfix
 * (hash:/etc/postfix/access, inline:{ a=b }, pcre:/etc/postfix/checks, ...).
 *
 * A lookup answers TABLE_FOUND (value set), TABLE_NOTFOUND or TABLE_ERROR (a temporary failure:
 * the caller must defer, never treat it as "not found"). Each table type is one file
 * (table_<type>.c) plus one line in table_registry.c. */
#ifndef KESTREL_TABLE_TABLE_H
#define KESTREL_TABLE_TABLE_H

#include "base/str.h"

enum table_status { TABLE_ERROR = -1, TABLE_FOUND = 0, TABLE_NOTFOUND = 1 };
/* table_update with TABLE_FLAG_DUP_WARN: the key existed and its first value was kept (the
 * caller warns, naming its file and line, or stays silent for postmap -w). */
#define TABLE_DUPLICATE 2

/* Open flags. */
#define TABLE_FLAG_FOLD_KEY (1 << 0)   /* lowercase keys before lookup/update (postmap default) */
#define TABLE_FLAG_WRITE (1 << 1)      /* open for update */
#define TABLE_FLAG_CREATE (1 << 2)     /* create empty (truncate) */
#define TABLE_FLAG_NUL_KEY (1 << 3)    /* postmap -N: keys and values include the final NUL */
#define TABLE_FLAG_NO_NUL_KEY (1 << 4) /* postmap -n: they do not */
#define TABLE_FLAG_NO_SUBST (1 << 5)   /* pattern tables must not substitute $1 (alias maps) */
/* Duplicate key on update: keep the first and answer TABLE_DUPLICATE (without this flag an
 * update replaces). */
#define TABLE_FLAG_DUP_WARN (1 << 6)
#define TABLE_FLAG_DUP_REPLACE (1 << 7) /* duplicate key on update: replace silently */
/* Lock file tables: shared per lookup, exclusive while open for writing. */
#define TABLE_FLAG_LOCK (1 << 8)
/* With TABLE_FLAG_WRITE: fail rather than create a missing table (postmap -d). */
#define TABLE_FLAG_MUST_EXIST (1 << 9)

/* Properties a type declares. */
#define TABLE_PROP_FIXED (1 << 0) /* exact-key lookups (hash, btree, texthash, inline, ...) */
/* Pattern lookups (regexp, pcre, cidr): keys are whole input. */
#define TABLE_PROP_PATTERN (1 << 1)

struct table;

/* Permissions for a newly built table file (postmap: like the source file). */
struct table_owner {
    int mode; /* permission bits; -1: leave the default (0644 less umask) */
    long uid; /* -1: leave */
    long gid; /* -1: leave */
};

struct table_ops {
    int (*lookup)(struct table *t, const char *key, struct str *value);
    int (*update)(struct table *t, const char *key, const char *value); /* NULL: read-only */
    int (*remove)(struct table *t, const char *key);                    /* FOUND / NOTFOUND */
    /* first != 0 starts over; returns TABLE_FOUND with key/value, TABLE_NOTFOUND at the end. */
    int (*iterate)(struct table *t, int first, struct str *key, struct str *value);
    int (*sync)(struct table *t);
    void (*close)(struct table *t);
    /* 1 if the file(s) behind the table changed on disk since open, else 0. NULL: never. */
    int (*changed)(struct table *t);
    /* Tables opened with TABLE_FLAG_CREATE are built in a temporary file; commit renames it
     * over the old one (0, or TABLE_ERROR); afterwards only close is allowed. Closing without
     * commit discards the new file. */
    int (*commit)(struct table *t, const struct table_owner *owner);
};

struct table {
    const char *type; /* registry name, e.g. "hash" */
    char *name;       /* the part after "type:" */
    int flags;        /* TABLE_FLAG_* given at open */
    int properties;   /* TABLE_PROP_* */
    const struct table_ops *ops;
    void *priv;       /* the implementation's state */
    struct str error; /* text of the last TABLE_ERROR */
    struct str fold;  /* scratch buffer for folded keys */
};

/* A type's open function: on failure returns NULL with err set ("open hash:/x: ..."). */
typedef struct table *(*table_open_fn)(const char *name, int flags, struct str *err);

struct table_type {
    const char *name;
    table_open_fn open;
};

/* Opens "type:name". NULL with err set when the type is unknown or the table cannot be opened. */
struct table *table_open(const char *spec, int flags, struct str *err);
/* Like table_open, but never NULL: on failure logs a warning and returns a surrogate table whose
 * every lookup answers TABLE_ERROR with the open error as its text ("degrade, don't die"). */
struct table *table_open_or_surrogate(const char *spec, int flags);
int table_lookup(struct table *t, const char *key, struct str *value);
int table_update(struct table *t, const char *key, const char *value);
int table_remove(struct table *t, const char *key);
int table_iterate(struct table *t, int first, struct str *key, struct str *value);
int table_sync(struct table *t);
/* 1 if the table's file(s) changed on disk since open (a daemon should exit and be restarted). */
int table_changed(struct table *t);
/* Completes a TABLE_FLAG_CREATE build atomically (owner may be NULL). 0 or TABLE_ERROR. */
int table_commit(struct table *t, const struct table_owner *owner);
void table_close(struct table *t);
/* "type:name" of an open table, for messages. */
void table_describe(const struct table *t, struct str *out);

/* For implementations: allocate the common part. */
struct table *table_alloc(const char *type, const char *name, int flags, int properties,
                          const struct table_ops *ops, void *priv);
void table_free(struct table *t);
/* Set t->error and return TABLE_ERROR. */
int table_fail(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For file-based implementations: identity of a file at open time, for the changed op. */
struct table_stamp {
    unsigned long long dev, ino, size;
    long long mtime_sec, mtime_nsec;
    int missing; /* the file did not exist */
};
void table_stamp_take(const char *path, struct table_stamp *s);
/* 1 if path is no longer the file recorded in s (other inode, mtime, size, or gone/appeared). */
int table_stamp_changed(const char *path, const struct table_stamp *s);

/* Registry (table_registry.c). */
const struct table_type *table_type_find(const char *name);
/* NULL-terminated list of the supported type names, in registry order (postconf -m). */
const char *const *table_type_names(void);

#endif
