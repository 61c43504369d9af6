/*
 * Fuzz the thing model: the input is model text, optionally followed by a NUL byte
 * and the text of the template "base" it may extend. The same bytes also go to the
 * compiled-document loader. Checked: no crash, no leak, and every model that
 * compiles round-trips through its JSON document and accepts its own defaults.
 */
#include "osap/alloc.h"
#include "osap/model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char default_base[] =
    "model base version \"1\";\n"
    "type Pct = int range 0..100;\n"
    "resource global { domain Info { attribute Name: string length 1..8 access rw; } }\n";

struct input {
    const char *base;
    size_t base_len;
};

static osap_err read_template(void *ud, const char *name, const char *from, char **path,
                              char **text, size_t *len)
{
    const struct input *in = ud;
    (void)from;
    if (strcmp(name, "base") != 0) return OSAP_ENOTFOUND;
    *path = osap_strdup("base.osm");
    *text = osap_strndup(in->base, in->base_len);
    if (!*path || !*text) {
        osap_free(*path);
        osap_free(*text);
        *path = *text = NULL;
        return OSAP_ENOMEM;
    }
    *len = in->base_len;
    return OSAP_OK;
}

static void check_defaults(const osap_model_t *m)
{
    char err[256];
    for (size_t i = 0; i < osap_model_resource_count(m); i++) {
        const struct osap_model_resource *r = osap_model_resource_at(m, i);
        for (size_t j = 0; j < r->n_domains; j++) {
            const struct osap_model_domain *d = &r->domains[j];
            for (size_t k = 0; k < d->n_attributes; k++) {
                const struct osap_model_attribute *a = &d->attributes[k];
                if (a->default_value &&
                    osap_model_validate(m, OSAP_MODEL_CHECK_REPORT, r->category, d->identifier,
                                        a->identifier, a->default_value, err,
                                        sizeof(err)) != OSAP_OK)
                    abort();
            }
        }
    }
}

/* A model's JSON loads back into the same document. */
static void round_trip(const osap_model_t *m)
{
    char *json = NULL, *again = NULL, err[256];
    osap_model_t *copy = NULL;
    if (osap_model_to_json(m, &json) != OSAP_OK) abort();
    if (osap_model_load_json(json, strlen(json), &copy, err, sizeof(err)) != OSAP_OK) abort();
    if (osap_model_to_json(copy, &again) != OSAP_OK || strcmp(json, again) != 0) abort();
    check_defaults(copy);
    osap_free(json);
    osap_free(again);
    osap_model_free(copy);
}

static void generate(const osap_model_t *m)
{
    char *out = NULL, err[256];
    if (osap_model_to_profile(m, &out) != OSAP_OK) abort();
    osap_free(out);
    out = NULL;
    if (osap_model_to_markdown(m, &out) != OSAP_OK) abort();
    osap_free(out);
    out = NULL;
    osap_err rc = osap_model_to_c_header(m, &out, err, sizeof(err));
    if (rc != OSAP_OK && rc != OSAP_EMODEL_SEMANTIC) abort();
    osap_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t main_len = nul ? (size_t)(nul - text) : size;
    struct input in = {default_base, sizeof(default_base) - 1};
    if (nul) {
        in.base = nul + 1;
        in.base_len = size - main_len - 1;
    }
    struct osap_model_loader loader = {read_template, &in};
    char err[512];
    osap_model_t *m = NULL;

    osap_err rc = osap_model_parse("fuzz.osm", text, main_len, &loader, &m, err, sizeof(err));
    if (rc == OSAP_OK) {
        check_defaults(m);
        round_trip(m);
        generate(m);
        osap_model_free(m);
        m = NULL;
    } else if (rc != OSAP_EMODEL_SYNTAX && rc != OSAP_EMODEL_SEMANTIC &&
               rc != OSAP_EMODEL_TEMPLATE) {
        abort();
    }

    rc = osap_model_load_json(text, size, &m, err, sizeof(err));
    if (rc == OSAP_OK) {
        check_defaults(m);
        round_trip(m);
        generate(m);
        osap_model_free(m);
    } else if (rc != OSAP_EJSON && rc != OSAP_EMODEL_FORMAT) {
        abort();
    }
    return 0;
}
