/* libFuzzer target: the device list of `osapd device import`
 * (src/osapd/admin_import.c), read from the input as a file.
 *
 * Checks: every device yielded is one the store would take (valid serial and
 * secret, a licence exactly when the serial has the licence form, a valid model)
 * and fits the device record; its fields hold no separator, no line end and no
 * surrounding blank; line numbers only grow, and every line of the input is
 * accounted for once. Seeds: the lists of tests/integration/test_osapd_admin.py. */
#include "fuzz_split.h"
#include "osapd.h"
#include "store_devices.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_field(const char *s)
{
    size_t n = strlen(s);

    CHECK(!strpbrk(s, ",\r\n"));
    CHECK(n == 0 || (s[0] != ' ' && s[0] != '\t' && s[n - 1] != ' ' && s[n - 1] != '\t'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct osapd_import_reader r;
    struct osapd_import_device dev;
    const char *problem;
    unsigned long lines = 0, last = 0;
    FILE *f;
    int got;

    if (size == 0) return 0;
    f = fmemopen((void *)data, size, "r");
    if (!f) return 0;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (data[size - 1] != '\n') lines++;

    osapd_import_reader_init(&r, f);
    while ((got = osapd_import_next(&r, &dev, &problem)) != 0) {
        CHECK(r.lineno > last && r.lineno <= lines);
        last = r.lineno;
        if (got < 0) {
            CHECK(problem && *problem);
            continue;
        }
        struct osap_device d;
        CHECK(got == 1);
        check_field(dev.serial);
        check_field(dev.secret);
        check_field(dev.model);
        CHECK(osapd_device_problem(dev.serial, dev.secret, dev.licence) == NULL);
        CHECK(dev.licence == (strchr(dev.serial, ':') != NULL));
        CHECK(osap_label_valid(dev.model, OSAP_DEVICE_MODEL_MAX));
        CHECK(osap_str_copy(d.serial, sizeof(d.serial), dev.serial));
        CHECK(osap_str_copy(d.secret, sizeof(d.secret), dev.secret));
        CHECK(osap_str_copy(d.model, sizeof(d.model), dev.model));
    }
    CHECK(!ferror(f));
    CHECK(r.lineno == lines);
    fclose(f);
    return 0;
}
