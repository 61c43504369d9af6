/*
 * das-envelope: the device side of the DAS payload crypto for the DAS device tests
 * (a scripted device seals what it publishes and opens what it receives), on
 * libosap's envelope and CBC-EZ functions:
 *
 *   das-envelope seal KEY_HEX COMMON_JSON BODY   -> payload hex
 *   das-envelope open KEY_HEX PAYLOAD_HEX        -> common JSON line, body line
 *   das-envelope cbc KEY_HEX TEXT                -> CBC-EZ(TEXT) hex (registrations)
 *
 * Exit 0 on success, 1 when the input does not decrypt or split, 2 on usage.
 */
#include "osap/alloc.h"
#include "osap/crypto.h"
#include "osap/envelope.h"
#include "test_hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: das-envelope seal KEY COMMON BODY | open KEY HEX | cbc KEY TEXT\n");
    return 2;
}

static void print_hex(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        printf("%02x", p[i]);
    printf("\n");
}

int main(int argc, char **argv)
{
    uint8_t *key = NULL, *in = NULL, *out = NULL;
    size_t key_len = 0, in_len = 0, out_len = 0, cap;
    int rc = 1;

    if (argc < 4) return usage();
    key = test_unhex(argv[2], &key_len);
    if (!key || key_len != OSAP_AES_KEY_LEN) {
        osap_free(key);
        return usage();
    }
    if (strcmp(argv[1], "seal") == 0 && argc == 5) {
        cap = osap_envelope_sealed_len(strlen(argv[3]), strlen(argv[4]));
        out = osap_malloc(cap ? cap : 1);
        if (out && osap_envelope_seal(key, argv[3], strlen(argv[3]), (const uint8_t *)argv[4],
                                      strlen(argv[4]), out, cap, &out_len) == OSAP_OK) {
            print_hex(out, out_len);
            rc = 0;
        }
    } else if (strcmp(argv[1], "open") == 0 && argc == 4) {
        struct osap_envelope_view v;
        in = test_unhex(argv[3], &in_len);
        out = osap_malloc(in_len + 1);
        if (in && out && osap_envelope_open(key, in, in_len, out, in_len, &v) == OSAP_OK) {
            printf("%.*s\n%.*s\n", (int)v.common_len, v.common, (int)v.body_len,
                   (const char *)v.body);
            rc = 0;
        }
    } else if (strcmp(argv[1], "cbc") == 0 && argc == 4) {
        cap = osap_cbc_ez_len(strlen(argv[3]));
        out = osap_malloc(cap);
        if (out && osap_cbc_ez_encrypt(key, (const uint8_t *)argv[3], strlen(argv[3]), out, cap,
                                       &out_len) == OSAP_OK) {
            print_hex(out, out_len);
            rc = 0;
        }
    } else {
        rc = usage();
    }
    osap_free(key);
    osap_free(in);
    osap_free(out);
    return rc;
}
