/* libFuzzer target: the configuration reader (libinih through osap_config_load_string,
 * every value type, error collection, printing). Seeds: fuzz/corpus/config/. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct every {
    char *name;
    int64_t port;
    bool enabled;
    uint64_t buffer;
    int64_t timeout_ms;
    struct osap_strlist services;
    char *listen;
    char *dir;
    char *level;
    char *secret;
};

#define F(f) offsetof(struct every, f)
static const struct osap_cfg_item items[] = {
    {"name", OSAP_CFG_STRING, "osap", 0, 64, F(name), "string", NULL, 0},
    {"port", OSAP_CFG_INT, "8666", 1, 65535, F(port), "int", NULL, 0},
    {"enabled", OSAP_CFG_BOOL, "yes", 0, 0, F(enabled), "bool", NULL, 0},
    {"buffer", OSAP_CFG_SIZE, "16KiB", 1, (int64_t)1 << 40, F(buffer), "size", NULL, 0},
    {"timeout", OSAP_CFG_DURATION, "5s", 0, 86400000, F(timeout_ms), "duration", NULL, 0},
    {"services", OSAP_CFG_LIST, "lbs, das, api", 0, 8, F(services), "list", NULL, 0},
    {"listen", OSAP_CFG_ADDRESS, "127.0.0.1", 0, 0, F(listen), "address", NULL, 0},
    {"dir", OSAP_CFG_PATH, "/var/lib/osap", 0, 0, F(dir), "path", NULL, 0},
    {"level", OSAP_CFG_STRING, "info", 0, 0, F(level), "choice", "error|warn|info|debug", 0},
    {"secret", OSAP_CFG_STRING, "", 0, 0, F(secret), "secret", NULL, OSAP_CFG_SECRET},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0},
};
static const struct osap_cfg_table table_a = {"osapd", "a", sizeof(struct every), items};
static const struct osap_cfg_table table_b = {"das", "b", sizeof(struct every), items};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct osap_config *cfg = NULL;
    char *text = malloc(size + 1);
    FILE *sink;

    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (osap_config_new(&cfg) == OSAP_OK && osap_config_register(cfg, &table_a) == OSAP_OK &&
        osap_config_register(cfg, &table_b) == OSAP_OK) {
        (void)osap_config_load_string(cfg, text, "fuzz.conf");
        (void)strlen(osap_config_errors(cfg));
        sink = fopen("/dev/null", "w");
        if (sink) {
            osap_config_print(cfg, sink, OSAP_CFG_PRINT_EFFECTIVE);
            fclose(sink);
        }
    }
    osap_config_free(cfg);
    free(text);
    return 0;
}
