/* The device import list of `osapd device import`: one device per line,
 * "serial,code_or_licence[,model]", read and checked without touching the
 * store (admin_device.c adds what it yields in one transaction). */
#include "osapd.h"

#include "store_devices.h"
#include "util.h"

#include <string.h>

const char *osapd_device_problem(const char *serial, const char *secret, bool licence)
{
    if (!osap_serial_valid(serial))
        return "invalid serial: 1..71 printable ASCII characters without spaces, '/', '+', '#'";
    if (licence && !osap_serial_is_licence(serial))
        return "a licence-mode serial has the form productKey:deviceName";
    if (!licence && strchr(serial, ':'))
        return "a serial with ':' is a licence-mode serial (productKey:deviceName): give a "
               "licence";
    if (!osap_secret_valid(secret))
        return licence ? "invalid licence: 1..31 printable ASCII characters without spaces"
                       : "invalid verification code: 1..31 printable ASCII characters without "
                         "spaces";
    return NULL;
}

void osapd_import_reader_init(struct osapd_import_reader *r, FILE *f)
{
    memset(r, 0, sizeof(*r));
    r->f = f;
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    *e = '\0';
    return s;
}

/* Read one line (without its newline) into r->line. Returns false at the end of the
 * file; otherwise a line that does not fit is skipped to its end and a problem. */
static bool read_line(struct osapd_import_reader *r, const char **problem)
{
    size_t n = 0;
    bool nul = false, long_line = false;
    int c;

    *problem = NULL;
    c = getc(r->f);
    if (c == EOF) return false;
    for (; c != EOF && c != '\n'; c = getc(r->f)) {
        if (n == OSAPD_IMPORT_LINE_MAX - 2) {
            long_line = true; /* read on to the end of the line */
            continue;
        }
        if (c == '\0') nul = true;
        r->line[n++] = (char)c;
    }
    r->line[n] = '\0';
    r->lineno++;
    if (long_line)
        *problem = "line longer than 1022 characters";
    else if (nul)
        *problem = "line contains a NUL byte";
    return true;
}

int osapd_import_next(struct osapd_import_reader *r, struct osapd_import_device *out,
                      const char **problem)
{
    for (;;) {
        char *fields[3] = {NULL, NULL, NULL}, *p, *s;
        int nf = 0;

        if (!read_line(r, problem)) return 0;
        if (*problem) return -1;
        s = r->line;
        if (r->lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0) s += 3; /* UTF-8 BOM */
        s = trim(s);
        if (*s == '\0' || *s == '#') continue;
        for (p = s; *p; p++)
            if (*p == ',') nf++;
        if (nf < 1 || nf > 2) {
            *problem = "expected serial,code_or_licence[,model]";
            return -1;
        }
        nf = 0;
        for (p = s;;) {
            char *comma = strchr(p, ',');
            if (comma) *comma = '\0';
            fields[nf++] = trim(p);
            if (!comma) break;
            p = comma + 1;
        }
        out->serial = fields[0];
        out->secret = fields[1];
        out->model = nf == 3 ? fields[2] : "";
        out->licence = strchr(fields[0], ':') != NULL;
        *problem = osapd_device_problem(out->serial, out->secret, out->licence);
        if (!*problem && !osap_label_valid(out->model, OSAP_DEVICE_MODEL_MAX))
            *problem = "invalid model: at most 63 bytes, no control characters";
        return *problem ? -1 : 1;
    }
}
