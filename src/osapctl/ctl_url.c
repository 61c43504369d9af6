/* The platform URL (--url, OSAP_URL) and the escaping of path segments and
 * query values. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t errcap, const char *msg)
{
    snprintf(err, errcap, "%s", msg);
    return -1;
}

int ctl_url_parse(const char *text, struct ctl_url *out, char *err, size_t errcap)
{
    struct ctl_url u;
    const char *p, *host, *host_end, *path;
    size_t hlen;

    memset(&u, 0, sizeof(u));
    if (strncasecmp(text, "http://", 7) == 0) {
        p = text + 7;
    } else if (strncasecmp(text, "https://", 8) == 0) {
        p = text + 8;
        u.tls = true;
    } else {
        return fail(err, errcap, "the URL must start with http:// or https://");
    }
    path = p + strcspn(p, "/?#");
    if (*path == '?' || *path == '#')
        return fail(err, errcap, "the URL must not have a query or a fragment");
    if (memchr(p, '@', (size_t)(path - p)))
        return fail(err, errcap, "the URL must not carry user information");
    if (*p == '[') {
        host = p + 1;
        host_end = memchr(host, ']', (size_t)(path - host));
        if (!host_end) return fail(err, errcap, "unterminated [ in the URL's host");
        p = host_end + 1;
    } else {
        host = p;
        host_end = memchr(p, ':', (size_t)(path - p));
        if (!host_end) host_end = path;
        p = host_end;
    }
    hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen >= sizeof(u.host)) return fail(err, errcap, "bad host in the URL");
    memcpy(u.host, host, hlen);
    u.host[hlen] = '\0';
    if (*p == ':') {
        char *end;
        long port;
        size_t plen = (size_t)(path - p - 1);

        if (plen == 0 || plen >= sizeof(u.port)) return fail(err, errcap, "bad port in the URL");
        port = strtol(p + 1, &end, 10);
        if (end != path || port < 1 || port > 65535)
            return fail(err, errcap, "bad port in the URL");
        snprintf(u.port, sizeof(u.port), "%ld", port);
    } else if (p != path) {
        return fail(err, errcap, "bad host in the URL");
    } else {
        snprintf(u.port, sizeof(u.port), "%s", u.tls ? "443" : "80");
    }
    if (strlen(path) >= sizeof(u.prefix)) return fail(err, errcap, "the URL's path is too long");
    snprintf(u.prefix, sizeof(u.prefix), "%s", path);
    while (u.prefix[0] && u.prefix[strlen(u.prefix) - 1] == '/')
        u.prefix[strlen(u.prefix) - 1] = '\0';
    for (const char *c = u.prefix; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return fail(err, errcap, "the URL's path has blanks or control characters");
    snprintf(u.hostport, sizeof(u.hostport), strchr(u.host, ':') ? "[%s]:%s" : "%s:%s", u.host,
             u.port);
    *out = u;
    return 0;
}

int ctl_url_escape(struct ctl_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            if (ctl_buf_add(b, s, 1)) return -1;
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            if (ctl_buf_add(b, e, 3)) return -1;
        }
    }
    return 0;
}

int ctl_url_query(struct ctl_buf *b, const char *name, const char *value)
{
    if (!value) return 0;
    if (ctl_buf_puts(b, b->data && strchr(b->data, '?') ? "&" : "?") || ctl_url_escape(b, name) ||
        ctl_buf_puts(b, "=") || ctl_url_escape(b, value))
        return -1;
    return 0;
}
