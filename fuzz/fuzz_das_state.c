/* libFuzzer target: the DAS's saved session state (osap_das_state_decode reads the
 * blob of one persistent session from das_state.db, see lib/server/store_das_state.h).
 * Input: the blob. A blob that decodes must encode again (every field was checked
 * against its range), and the encoding must decode to the same encoding: the two
 * directions agree. Seeds: fuzz/corpus/das_state/. */
#include "osap/alloc.h"
#include "store_das_state.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct osap_das_session_state st, again;
    uint8_t *blob, *enc = NULL, *enc2 = NULL;
    size_t enc_len = 0, enc2_len = 0;

    /* An exact-size copy, so that a read past the end is caught. */
    blob = malloc(size ? size : 1);
    if (!blob) return 0;
    memcpy(blob, data, size);
    memset(&st, 0, sizeof(st));
    if (osap_das_state_decode(blob, size, &st) == OSAP_OK) {
        if (osap_das_state_encode(&st, &enc, &enc_len) != OSAP_OK) abort();
        memset(&again, 0, sizeof(again));
        if (osap_das_state_decode(enc, enc_len, &again) != OSAP_OK) abort();
        if (osap_das_state_encode(&again, &enc2, &enc2_len) != OSAP_OK) abort();
        if (enc2_len != enc_len || memcmp(enc, enc2, enc_len) != 0) abort();
        osap_das_state_release(&again);
        osap_free(enc2);
        osap_free(enc);
        osap_das_state_release(&st);
    }
    free(blob);
    return 0;
}
