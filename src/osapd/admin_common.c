/* Helpers shared by the administration commands (see osapd.h). */
#include "osapd.h"

#include "config_core.h"
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>

void osapd_errorf(const char *fmt, ...)
{
    va_list ap;
    fputs("osapd: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

const char *osapd_store_message(const struct osap_store *st, osap_err err)
{
    if (st && err != OSAP_EEXISTS && err != OSAP_ENOTFOUND && osap_store_errmsg(st)[0])
        return osap_store_errmsg(st);
    return osap_strerror(err);
}

int osapd_admin_open(const char *path, struct osap_config **cfg, struct osap_store **st)
{
    const struct osap_core_config *core;
    const struct osap_store_config *scfg;
    struct osap_log_options lopt = {OSAP_LOG_WARN, NULL, false};
    struct osap_config *c = NULL;
    struct osap_store *s = NULL;
    osap_err err;
    int rc;

    /* Admin commands report on standard error, whatever the daemon's log says. */
    osap_log_open(&lopt);
    rc = osapd_config_load(path, NULL, 0, &c);
    if (rc) return rc;
    core = osap_config_section(c, "osapd");
    scfg = osap_config_section(c, "store");
    err = osap_mkdir_p(core->data_dir, 0700);
    if (err) {
        osapd_errorf("cannot create the data directory %s: %s", core->data_dir, osap_strerror(err));
        osap_config_free(c);
        return OSAPD_EXIT_ERROR;
    }
    err = osap_store_open(scfg, core->data_dir, &s);
    if (err) {
        osapd_errorf("cannot open the store in %s: %s", core->data_dir, osap_strerror(err));
        osap_config_free(c);
        return OSAPD_EXIT_ERROR;
    }
    *cfg = c;
    *st = s;
    return OSAPD_EXIT_OK;
}

void osapd_admin_close(struct osap_config *cfg, struct osap_store *st)
{
    osap_store_close(st);
    osap_config_free(cfg);
}
