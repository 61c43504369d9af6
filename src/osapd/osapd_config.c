/* Building osapd's configuration: every table, the file, --set overrides. */
#include "osapd.h"

#include "config_core.h"
#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>

osap_err osapd_config_new(struct osap_config **out)
{
    struct osap_config *cfg = NULL;
    osap_err err = osap_config_new(&cfg);

    if (err) return err;
    for (size_t i = 0; i < osapd_config_table_count; i++) {
        err = osap_config_register(cfg, osapd_config_tables[i]);
        if (err) {
            fprintf(stderr, "osapd: built-in settings: %s%s", osap_strerror(err),
                    osap_config_errors(cfg)[0] ? "\n" : "");
            fputs(osap_config_errors(cfg), stderr);
            osap_config_free(cfg);
            return err;
        }
    }
    *out = cfg;
    return OSAP_OK;
}

/* Apply "section.key=value". */
static osap_err apply_set(struct osap_config *cfg, const char *set)
{
    const char *dot = strchr(set, '.'), *eq = strchr(set, '=');
    char section[64], key[64], origin[160];
    size_t slen, klen;

    if (!dot || !eq || dot > eq) {
        fprintf(stderr, "osapd: --set %s: expected SECTION.KEY=VALUE\n", set);
        return OSAP_EINVAL;
    }
    slen = (size_t)(dot - set);
    klen = (size_t)(eq - dot - 1);
    if (slen == 0 || klen == 0 || slen >= sizeof(section) || klen >= sizeof(key)) {
        fprintf(stderr, "osapd: --set %s: expected SECTION.KEY=VALUE\n", set);
        return OSAP_EINVAL;
    }
    memcpy(section, set, slen);
    section[slen] = '\0';
    memcpy(key, dot + 1, klen);
    key[klen] = '\0';
    snprintf(origin, sizeof(origin), "--set %s.%s", section, key);
    return osap_config_set(cfg, section, key, eq + 1, origin);
}

int osapd_config_load(const char *path, char *const *sets, size_t n_sets, struct osap_config **out)
{
    struct osap_config *cfg = NULL;
    osap_err err;

    if (osapd_config_new(&cfg) != OSAP_OK) return OSAPD_EXIT_ERROR;
    if (path) {
        err = osap_config_load(cfg, path);
        if (err) goto fail;
    }
    for (size_t i = 0; i < n_sets; i++) {
        err = apply_set(cfg, sets[i]);
        if (err == OSAP_EINVAL) {
            osap_config_free(cfg);
            return OSAPD_EXIT_USAGE;
        }
        if (err) goto fail;
    }
    *out = cfg;
    return OSAPD_EXIT_OK;
fail:
    if (err == OSAP_ENOMEM)
        fprintf(stderr, "osapd: %s\n", osap_strerror(err));
    else
        fputs(osap_config_errors(cfg), stderr);
    osap_config_free(cfg);
    return OSAPD_EXIT_ERROR;
}

int osapd_config_check_services(const struct osap_config *cfg)
{
    const struct osap_core_config *core = osap_config_section(cfg, "osapd");
    int origin = osap_config_origin(cfg, "osapd", "services");
    char where[4200], builtin[256] = "";
    int rc = OSAPD_EXIT_OK;

    if (origin > 0)
        snprintf(where, sizeof(where), "%s:%d", osap_config_path(cfg), origin);
    else
        snprintf(where, sizeof(where), "%s", origin < 0 ? "--set" : "(default)");
    for (size_t k = 0, o = 0; k < osapd_builtin_service_count && o < sizeof(builtin); k++)
        o += (size_t)snprintf(builtin + o, sizeof(builtin) - o, "%s%s", k ? ", " : "",
                              osapd_builtin_services[k]->name);
    for (size_t i = 0; i < core->services.n; i++) {
        bool found = false;
        for (size_t k = 0; k < osapd_builtin_service_count; k++)
            if (strcmp(osapd_builtin_services[k]->name, core->services.v[i]) == 0) found = true;
        if (!found) {
            fprintf(stderr,
                    "osapd: %s: [osapd] services: service '%s' is not available in this build "
                    "of osapd (built in: %s)\n",
                    where, core->services.v[i], builtin[0] ? builtin : "none");
            rc = OSAPD_EXIT_ERROR;
        }
    }
    return rc;
}
