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

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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

/* ------------------------------------------------------------------------ */
/* admin_import.c: the list read by `osapd device import`                   */
/* ------------------------------------------------------------------------ */

/** Longest line of an import list: 1022 characters, the newline, and the NUL of the
 *  reader's buffer. */
#define OSAPD_IMPORT_LINE_MAX 1024

/** Why @p serial with @p secret cannot be a device (in licence mode when @p licence),
 *  or NULL when it can. The message never quotes the secret. */
const char *osapd_device_problem(const char *serial, const char *secret, bool licence);

/** One device of an import list; the strings point into the reader's line. */
struct osapd_import_device {
    const char *serial;
    const char *secret; /**< verification code or licence */
    const char *model;  /**< "" when the line names none */
    bool licence;       /**< the serial has the licence form productKey:deviceName */
};

/** Reads an import list: "serial,code_or_licence[,model]" lines (fields trimmed of
 *  blanks; CRLF line ends), '#' comments and blank lines skipped, a UTF-8 byte order
 *  mark before the first line ignored. */
struct osapd_import_reader {
    FILE *f;
    unsigned long lineno; /**< the line read last (for messages) */
    char line[OSAPD_IMPORT_LINE_MAX];
};

/** Read @p f (the caller closes it). */
void osapd_import_reader_init(struct osapd_import_reader *r, FILE *f);

/** The next device: 1 and *out (valid until the next call); 0 at the end of the file
 *  (or a read error: see ferror()); -1 for a bad line, with *problem saying why (a line
 *  too long or with a NUL byte, fields missing or extra, an invalid serial, secret or
 *  model). Reading goes on with the next line. */
int osapd_import_next(struct osapd_import_reader *r, struct osapd_import_device *out,
                      const char **problem);

#endif /* OSAPD_H */
