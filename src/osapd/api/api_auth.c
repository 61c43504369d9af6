/* Bearer-token authentication: tokens come from `osapd token create` and are
 * stored hashed (store_tokens.h); every /api/v1 route but health and the
 * OpenAPI document needs one. */
#include "api/api_internal.h"

#include "osap/alloc.h"
#include "util.h"

#include <openssl/crypto.h>
#include <string.h>
#include <strings.h>

static bool copy_token(const char *t, char *out, size_t cap)
{
    size_t n = strlen(t);

    if (n == 0 || n >= cap) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f) return false;
    memcpy(out, t, n + 1);
    return true;
}

bool api_auth_token(const struct osap_http_request *req, bool query_ok, char *out, size_t cap)
{
    const char *h = osap_http_request_header(req, "Authorization");

    if (h) {
        while (*h == ' ' || *h == '\t')
            h++;
        if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t')) return false;
        h += 6;
        while (*h == ' ' || *h == '\t')
            h++;
        return copy_token(h, out, cap);
    }
    /* EventSource (the console's live view) cannot send headers. */
    if (query_ok) {
        const char *q = osap_http_request_param(req, "access_token");
        if (q) return copy_token(q, out, cap);
    }
    return false;
}

bool api_auth_verify(struct api_call *c, struct osap_store *st)
{
    osap_err err = osap_store_token_verify(st, c->token, osap_time_now_ms(), NULL);

    OPENSSL_cleanse(c->token, strlen(c->token));
    osap_free(c->token);
    c->token = NULL;
    if (err == OSAP_OK) return true;
    if (err == OSAP_ENOTFOUND) {
        api_reply_header(c, "WWW-Authenticate", "Bearer realm=\"osap\", error=\"invalid_token\"");
        api_reply_error(c, 401, API_E_UNAUTHORIZED, NULL, "the token is not valid");
    } else {
        api_reply_store_error(c, err, API_E_UNAUTHORIZED, "token check");
    }
    return false;
}
