/* server_privs: chroot and privilege drop for services started as root. */
#ifndef KESTREL_SERVICE_SERVER_PRIVS_H
#define KESTREL_SERVICE_SERVER_PRIVS_H

/* When running as root: optionally chroot to dir, then become mail_owner (user name).
 * Fatal on any failure, and when mail_owner is root. Does nothing when not root. */
void server_drop_privileges(const char *mail_owner, const char *chroot_dir, int want_chroot);

#endif
