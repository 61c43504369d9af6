/* Random bytes: the injectable source and the system CSPRNG behind it. */
#include "osap/crypto.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/rand.h>

static osap_err system_fill(void *userdata, uint8_t *buf, size_t len)
{
    (void)userdata;
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(buf, n) != 1) {
            ERR_clear_error();
            return OSAP_ERANDOM;
        }
        buf += n;
        len -= (size_t)n;
    }
    return OSAP_OK;
}

static const struct osap_rng system_rng = {system_fill, NULL};

const struct osap_rng *osap_rng_system(void)
{
    return &system_rng;
}

osap_err osap_rng_fill(const struct osap_rng *rng, uint8_t *buf, size_t len)
{
    if (!rng) rng = &system_rng;
    if (len == 0) return OSAP_OK;
    if (!buf || !rng->fill) return OSAP_EINVAL;
    osap_err err = rng->fill(rng->userdata, buf, len);
    if (err != OSAP_OK) osap_cleanse(buf, len);
    return err;
}
