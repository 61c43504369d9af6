/*
 * Deterministic identities: the same seed gives the same fleet, so
 * `osap-sim identities` can be imported into the registry and the running
 * simulator then presents exactly those devices.
 *
 *   SAP:      serial <prefix><seed>X<index, 7 digits>, code 6 letters A-Z
 *   licence:  serial <productKey>:<deviceName>, productKey 22 characters
 *             (derived from prefix and seed), deviceName D<index, 7 digits>,
 *             licence 22 letters and digits; the model is the productKey
 */
#include "sim.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

uint64_t sim_mix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void letters(uint64_t *st, const char *alphabet, size_t n, char *out)
{
    size_t k = strlen(alphabet);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[sim_mix64(st) % k];
    out[n] = '\0';
}

void sim_identity_make(uint64_t seed, uint32_t index, const char *prefix, int licence,
                       const char *model, struct sim_identity *out)
{
    static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static const char mixed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t st = seed * 0x100000001B3ull ^ ((uint64_t)index << 1) ^ 0x5EEDull;

    memset(out, 0, sizeof(*out));
    out->licence = licence;
    if (!licence) {
        snprintf(out->serial, sizeof(out->serial), "%s%" PRIu64 "X%07" PRIu32, prefix, seed, index);
        letters(&st, upper, 6, out->code);
        snprintf(out->model, sizeof(out->model), "%s", model);
        return;
    }
    {
        char pk[23];
        uint64_t pst = seed ^ 0xC0FFEEull;
        size_t pl = strlen(prefix) > 8 ? 8 : strlen(prefix);
        memcpy(pk, prefix, pl);
        letters(&pst, alnum, 22 - pl, pk + pl);
        for (size_t i = 0; i < pl; i++)
            if (pk[i] >= 'a' && pk[i] <= 'z') pk[i] = (char)(pk[i] - 'a' + 'A');
        snprintf(out->serial, sizeof(out->serial), "%s:D%07" PRIu32, pk, index);
        letters(&st, mixed, 22, out->code);
        snprintf(out->model, sizeof(out->model), "%s", pk);
    }
}
