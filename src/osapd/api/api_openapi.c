/* GET /api/v1/openapi.json: docs/openapi.json, embedded at build time
 * (api_openapi_doc.c is generated from it by embed.cmake), so the document
 * served is the one in the tree the binary was built from. */
#include "api/api_internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

extern const char api_openapi_doc[];
extern const size_t api_openapi_doc_len;

void api_openapi_get(struct api_call *c)
{
    static char etag[24];
    const char *inm = osap_http_request_header(c->req, "If-None-Match");

    if (!etag[0]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        EVP_Digest(api_openapi_doc, api_openapi_doc_len, md, &n, EVP_sha256(), NULL);
        snprintf(etag, sizeof(etag), "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", md[0], md[1], md[2],
                 md[3], md[4], md[5], md[6], md[7]);
    }
    api_reply_header(c, "ETag", "%s", etag);
    if (inm && strstr(inm, etag)) {
        api_reply_body(c, 304, NULL, NULL, 0);
    } else {
        api_reply_header(c, "Cache-Control", "no-cache");
        api_reply_body(c, 200, "application/json", api_openapi_doc, api_openapi_doc_len);
    }
    api_call_finish(c);
}
