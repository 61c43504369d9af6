/* Validation of device identities and labels (see util.h). */
#include "util.h"

#include "osap/proto.h"

#include <string.h>

static bool graph_ascii(const char *s, size_t max, const char *forbidden)
{
    size_t n = 0;
    if (!s || !*s) return false;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c <= 0x20 || c >= 0x7f) return false;
        if (forbidden && strchr(forbidden, c)) return false;
        if (n + 1 > max) return false;
    }
    return true;
}

bool osap_serial_valid(const char *serial)
{
    return graph_ascii(serial, OSAP_SUBSERIAL_MAX, "/+#");
}

bool osap_serial_is_licence(const char *serial)
{
    const char *colon = strchr(serial, ':');
    return colon && colon != serial && colon[1] != '\0' && !strchr(colon + 1, ':');
}

bool osap_secret_valid(const char *secret)
{
    return graph_ascii(secret, OSAP_VCODE_MAX, NULL);
}

bool osap_label_valid(const char *s, size_t max)
{
    size_t n = 0;
    if (!s) return true;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c < 0x20 || c == 0x7f) return false;
    }
    return n <= max;
}
