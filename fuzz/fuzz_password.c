/* libFuzzer target: the stored-password reader (osap_password_verify parses the
 * "$7$iterations$salt$hash" text kept in the store). Input: the hash text, a NUL,
 * then the password. Seeds: fuzz/corpus/password/. */
#include "util_secret.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 2);
    const char *password;
    size_t n;

    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    buf[size + 1] = '\0';
    n = strlen(buf);
    password = buf + n + (n < size ? 1 : 0);
    /* Keep each run cheap: skip absurd iteration counts (the reader bounds them at
     * 10 million, which is correct but slow to fuzz). */
    if (strncmp(buf, "$7$", 3) == 0 && strtoul(buf + 3, NULL, 10) > 2000) {
        free(buf);
        return 0;
    }
    (void)osap_password_verify(buf, password);
    free(buf);
    return 0;
}
