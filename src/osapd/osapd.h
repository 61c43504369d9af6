/*
 * osapd internals shared by main.c, the administration commands and the table of
 * services: exit codes, the built-in services and settings tables, configuration
 * loading, and helpers of the admin commands.
 */
#ifndef OSAPD_H
#define OSAPD_H

#include "config.h"
#include "service.h"
#include "store.h"

#include <stddef.h>

/** Exit codes of osapd and of every subcommand. */
enum osapd_exit {
    OSAPD_EXIT_OK = 0,    /* success */
    OSAPD_EXIT_ERROR = 1, /* failure; a message is on standard error */
    OSAPD_EXIT_USAGE = 2, /* bad command line */
};

/* ------------------------------------------------------------------------ */
/* services.c                                                               */
/* ------------------------------------------------------------------------ */

/** The services built into this osapd, in start order. */
extern const struct osapd_service *const osapd_builtin_services[];
extern const size_t osapd_builtin_service_count;

/** Every settings table osapd knows, in the order they are printed. */
extern const struct osap_cfg_table *const osapd_config_tables[];
extern const size_t osapd_config_table_count;

/* ------------------------------------------------------------------------ */
/* osapd_config.c                                                           */
/* ------------------------------------------------------------------------ */

/** A configuration with every table of osapd_config_tables registered (defaults). */
osap_err osapd_config_new(struct osap_config **out);

/** Build the configuration: defaults, then the file @p path (NULL = none), then the
 *  @p n_sets overrides "section.key=value" (--set). Messages go to standard error.
 *  Returns an exit code; *out is set only on OSAPD_EXIT_OK. */
int osapd_config_load(const char *path, char *const *sets, size_t n_sets, struct osap_config **out);

/** Check that every name in [osapd] services is built in; prints a message per
 *  unknown name. Returns an exit code. */
int osapd_config_check_services(const struct osap_config *cfg);

/* ------------------------------------------------------------------------ */
/* Administration commands (admin_*.c): argv[0] is the command name         */
/* ------------------------------------------------------------------------ */

int osapd_cmd_config(int argc, char **argv);
int osapd_cmd_device(int argc, char **argv);
int osapd_cmd_user(int argc, char **argv);
int osapd_cmd_token(int argc, char **argv);

/** Print "osapd: <message>" on standard error. */
void osapd_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Load the configuration @p path (NULL = defaults only), create the data
 *  directory if needed and open the store. Returns an exit code; on success the
 *  caller closes both with osapd_admin_close(). */
int osapd_admin_open(const char *path, struct osap_config **cfg, struct osap_store **st);
void osapd_admin_close(struct osap_config *cfg, struct osap_store *st);

/** A message for a store error: the store's own description when it has one. */
const char *osapd_store_message(const struct osap_store *st, osap_err err);

#endif /* OSAPD_H */
