/*
 * Helpers for the LBS tests: load a golden capture (a JSON file under tests/data/captures)
 * and pick out its LBS messages. Header-only (static inline) so that each test
 * executable includes what it uses.
 */
#ifndef TEST_LBS_CAPTURE_H
#define TEST_LBS_CAPTURE_H

#include "golden_capture.h"
#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CAP_MAX_MSGS 64

/** One LBS message of a capture; bytes is an exact-size heap copy. */
struct cap_msg {
    int conn;
    int to_server; /* dev->srv */
    const char *kind;
    uint8_t *bytes;
    size_t len;
    const cJSON *fields;
};

struct capture {
    cJSON *root;
    const char *name;
    struct cap_msg msgs[CAP_MAX_MSGS];
    size_t n;
};

/* Exact-size heap copy of hex text, so ASan sees any read past the end. */
static inline uint8_t *cap_hex_exact(const char *hex, size_t *len)
{
    uint8_t *tmp = test_hex(hex, len);
    uint8_t *out = malloc(*len ? *len : 1);
    assert_non_null(out);
    memcpy(out, tmp, *len);
    test_free_buf(tmp);
    return out;
}

static inline void cap_load(struct capture *c, const char *file)
{
    size_t len;
    char *text = test_read_data(file, &len);
    memset(c, 0, sizeof(*c));
    c->name = file;
    c->root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!c->root) fail_msg("cannot parse %s", file);
    const cJSON *msgs = golden_get(c->root, "messages"), *m;
    cJSON_ArrayForEach(m, msgs)
    {
        if (strcmp(golden_str(m, "service"), "lbs") != 0) continue;
        assert_true(c->n < CAP_MAX_MSGS);
        struct cap_msg *cm = &c->msgs[c->n++];
        cm->conn = golden_int(m, "conn");
        cm->to_server = strcmp(golden_str(m, "dir"), "dev->srv") == 0;
        cm->kind = golden_str(m, "kind");
        cm->bytes = cap_hex_exact(golden_str(m, "hex"), &cm->len);
        cm->fields = golden_get(m, "fields");
    }
    assert_true(c->n > 0);
}

static inline void cap_free(struct capture *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->msgs[i].bytes);
    cJSON_Delete(c->root);
    memset(c, 0, sizeof(*c));
}

/* Assert that @p got (@p n bytes) equals the hex member @p name of @p fields. */
static inline void cap_assert_hex(const cJSON *fields, const char *name, const uint8_t *got,
                                  size_t n)
{
    size_t len;
    uint8_t *want = test_hex(golden_str(fields, name), &len);
    assert_bytes_equal(got, n, want, len);
    test_free_buf(want);
}

#endif
