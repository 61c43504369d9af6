/* libFuzzer target: multipart/form-data bodies (lib/server/http_multipart.c), as
 * the Picture Service receives them.
 *
 * Input: one byte N, the Content-Type value, a NUL, then the body. Checks: a
 * parse either fails or yields parts that are well formed (a non-empty name,
 * data inside the body, in order and not overlapping, within the limits) and
 * found by name; what parses under tight limits parses the same under the
 * defaults, and what fails under the defaults fails under tight limits; with the
 * Nth allocation failing (N > 0), the result is OSAP_ENOMEM exactly when the
 * parse needed N allocations or more, and otherwise the same. Seeds: the bodies
 * of tests/unit/server/test_http_multipart.c and tests/integration/
 * test_api_pictures.py. */
#include "fuzz_alloc.h"
#include "fuzz_split.h"
#include "http.h"

#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct osap_http_multipart_limits tight = {
    .max_parts = 2,
    .max_part_bytes = 24,
    .max_header_bytes = 64,
};

static void check_parts(const struct osap_http_multipart *mp, const uint8_t *body, size_t len,
                        const struct osap_http_multipart_limits *lim)
{
    const uint8_t *prev_end = body;

    CHECK(mp->nparts >= 1 && mp->nparts <= lim->max_parts);
    for (size_t i = 0; i < mp->nparts; i++) {
        const struct osap_http_part *p = &mp->parts[i];
        const struct osap_http_part *f;

        CHECK(p->name && p->name[0]);
        CHECK(p->len <= lim->max_part_bytes);
        CHECK(p->data >= prev_end && p->data <= body + len &&
              p->len <= (size_t)(body + len - p->data));
        prev_end = p->data + p->len;
        f = osap_http_multipart_find(mp, p->name);
        CHECK(f && f <= p && strcmp(f->name, p->name) == 0);
        if (p->filename) CHECK(strlen(p->filename) < len);
        if (p->content_type) CHECK(strlen(p->content_type) < len);
    }
}

static bool same_parts(const struct osap_http_multipart *a, const struct osap_http_multipart *b)
{
    if (a->nparts != b->nparts) return false;
    for (size_t i = 0; i < a->nparts; i++) {
        const struct osap_http_part *x = &a->parts[i], *y = &b->parts[i];
        if (strcmp(x->name, y->name) != 0 || x->data != y->data || x->len != y->len ||
            !x->filename != !y->filename || (x->filename && strcmp(x->filename, y->filename)) ||
            !x->content_type != !y->content_type ||
            (x->content_type && strcmp(x->content_type, y->content_type)))
            return false;
    }
    return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_alloc_install();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct osap_http_multipart_limits defaults = {16, 16u << 20, 1024};
    struct osap_http_multipart *mp = NULL, *mt = NULL, *mf = NULL;
    const uint8_t *nul, *body;
    char *ct;
    size_t len;
    long n, allocs;
    osap_err e, et, ef;

    if (size < 1) return 0;
    n = data[0];
    nul = memchr(data + 1, '\0', size - 1);
    if (!nul) return 0;
    ct = strndup((const char *)data + 1, (size_t)(nul - data - 1));
    if (!ct) return 0;
    body = nul + 1;
    len = size - (size_t)(body - data);

    fz_alloc_fail(0);
    e = osap_http_multipart_parse(ct, body, len, NULL, &mp);
    allocs = fz_alloc_count;
    CHECK(e == OSAP_OK || e == OSAP_EHTTP_MULTIPART || e == OSAP_ETOOBIG);
    if (e == OSAP_OK) check_parts(mp, body, len, &defaults);

    et = osap_http_multipart_parse(ct, body, len, &tight, &mt);
    CHECK(et == OSAP_OK || et == OSAP_EHTTP_MULTIPART || et == OSAP_ETOOBIG);
    if (et == OSAP_OK) {
        check_parts(mt, body, len, &tight);
        CHECK(e == OSAP_OK && same_parts(mp, mt));
    }
    if (e != OSAP_OK) CHECK(et != OSAP_OK);

    if (n) {
        fz_alloc_fail(n);
        ef = osap_http_multipart_parse(ct, body, len, NULL, &mf);
        fz_alloc_fail(0);
        if (n <= allocs) {
            CHECK(ef == OSAP_ENOMEM);
        } else {
            CHECK(ef == e);
            if (ef == OSAP_OK) CHECK(same_parts(mp, mf));
        }
    }
    osap_http_multipart_free(mp);
    osap_http_multipart_free(mt);
    osap_http_multipart_free(mf);
    free(ct);
    return 0;
}
