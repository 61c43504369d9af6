/*
 * Hex text to bytes for the C helper programs of the script tests (das-envelope,
 * das-store-tool, lbs-harness): their arguments carry keys, payloads and fixed
 * random bytes as hex.
 */
#ifndef OSAP_TEST_HEX_H
#define OSAP_TEST_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Decode the hex text @p s (either case, no separators) into @p out (@p cap
 * bytes); @p len gets the byte count. 0, or -1 when @p s has an odd length, a
 * character that is not a hex digit, or more than @p cap bytes. */
int test_hex_decode(const char *s, uint8_t *out, size_t cap, size_t *len);

/* The same into a new buffer (osap_malloc(); free with osap_free()), or NULL
 * when @p s is not hex or memory runs out. */
uint8_t *test_unhex(const char *s, size_t *len);

#endif
