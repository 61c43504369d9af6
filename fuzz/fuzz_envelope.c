/*
 * libFuzzer target for the payload envelope and its common JSON.
 *
 * The first byte picks what the rest is (seeds: every PUBLISH payload and
 * plaintext of the golden captures, and their common JSON):
 *   0  a payload under the captures' session key: open, then parse the common
 *      JSON as v3 and v2;
 *   1  a decrypted plaintext: split and parse;
 *   2  a common JSON: parse as v3 and v2; whatever parses must format back to a
 *      document that parses to the same values;
 *   3  a body: seal it behind {"Seq":n} and open it again: same bytes back.
 */
#include "osap/crypto.h"
#include "osap/envelope.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t session_key[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                        0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

static void must(int cond)
{
    if (!cond) abort();
}

static void parse_both(const char *json, size_t len)
{
    struct osap_envelope_common c, again;
    char out[OSAP_ENVELOPE_COMMON_BUF];
    size_t n;

    if (osap_envelope_common_parse(OSAP_ENVELOPE_V3, json, len, &c) == OSAP_OK) {
        must(osap_envelope_common_v3(c.seq, out, sizeof(out), &n) == OSAP_OK);
        must(osap_envelope_common_parse(OSAP_ENVELOPE_V3, out, n, &again) == OSAP_OK);
        must(again.seq == c.seq);
    }
    if (osap_envelope_common_parse(OSAP_ENVELOPE_V2, json, len, &c) == OSAP_OK) {
        must(strlen(c.cmd_ver) <= OSAP_ENVELOPE_CMDVER_MAX);
        must(c.msg_type >= 0 && c.msg_type <= 2);
        if (c.msg_type) {
            must(osap_envelope_common_v2(c.cmd_ver, c.seq, c.msg_type, out, sizeof(out), &n) ==
                 OSAP_OK);
            must(osap_envelope_common_parse(OSAP_ENVELOPE_V2, out, n, &again) == OSAP_OK);
            must(again.seq == c.seq && again.msg_type == c.msg_type &&
                 strcmp(again.cmd_ver, c.cmd_ver) == 0);
        }
    }
}

static void check_view(const struct osap_envelope_view *v, const uint8_t *plain, size_t len)
{
    must((const uint8_t *)v->common == plain + 2);
    must(2 + v->common_len + v->body_len == len);
    must(v->body == plain + 2 + v->common_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct osap_envelope_view v;
    uint8_t *buf;
    size_t n;

    if (size < 1) return 0;
    const uint8_t mode = data[0];
    data++;
    size--;
    buf = malloc(size + 64);
    if (!buf) return 0;

    switch (mode & 3) {
    case 0:
        if (osap_envelope_open(session_key, data, size, buf, size, &v) == OSAP_OK) {
            must(size >= 16);
            parse_both(v.common, v.common_len);
        }
        break;
    case 1:
        if (osap_envelope_split(data, size, &v) == OSAP_OK) {
            check_view(&v, data, size);
            parse_both(v.common, v.common_len);
        }
        break;
    case 2: parse_both((const char *)data, size); break;
    default: {
        char common[OSAP_ENVELOPE_COMMON_BUF];
        size_t clen;
        uint8_t *plain = malloc(size + 64);
        must(osap_envelope_common_v3((uint32_t)size * 2654435761u, common, sizeof(common), &clen) ==
             OSAP_OK);
        must(osap_envelope_seal(session_key, common, clen, data, size, buf, size + 64, &n) ==
             OSAP_OK);
        must(n == osap_envelope_sealed_len(clen, size));
        if (plain) {
            must(osap_envelope_open(session_key, buf, n, plain, size + 64, &v) == OSAP_OK);
            must(v.common_len == clen && memcmp(v.common, common, clen) == 0);
            must(v.body_len == size && (size == 0 || memcmp(v.body, data, size) == 0));
            free(plain);
        }
        break;
    }
    }
    free(buf);
    return 0;
}
