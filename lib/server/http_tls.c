/* TLS for the HTTP server: OpenSSL 3 in server mode over memory BIOs, so that
 * libuv keeps doing all socket I/O. TLS 1.2 is the floor. */
#include "http_internal.h"

#include "osap/alloc.h"

#include <openssl/err.h>

/* Buffers that grew past this are replaced once empty (idle connections stay small). */
#define HTTP_TLS_TRIM_BYTES 32768

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char http11[] = "\x08http/1.1";
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, http11, sizeof(http11) - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

osap_err osap__http_tls_ctx_new(const char *cert_file, const char *key_file, SSL_CTX **out)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) goto fail;
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) goto fail;
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) goto fail;
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) goto fail;
    if (SSL_CTX_check_private_key(ctx) != 1) goto fail;
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
    *out = ctx;
    return OSAP_OK;
fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return OSAP_EHTTP_TLS;
}

void osap__http_tls_ctx_free(SSL_CTX *ctx)
{
    SSL_CTX_free(ctx);
}

static BIO *new_mem_bio(void)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b) BIO_set_mem_eof_return(b, -1); /* empty means "retry", not EOF */
    return b;
}

osap_err osap__http_tls_new(SSL_CTX *ctx, struct osap__http_tls **out)
{
    struct osap__http_tls *t = osap_calloc(1, sizeof(*t));
    if (!t) return OSAP_ENOMEM;
    t->ssl = SSL_new(ctx);
    t->rbio = new_mem_bio();
    t->wbio = new_mem_bio();
    if (!t->ssl || !t->rbio || !t->wbio) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        SSL_free(t->ssl);
        osap_free(t);
        ERR_clear_error();
        return OSAP_ENOMEM;
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio); /* the SSL owns both now */
    SSL_set_accept_state(t->ssl);
    *out = t;
    return OSAP_OK;
}

void osap__http_tls_free(struct osap__http_tls *t)
{
    if (!t) return;
    SSL_free(t->ssl);
    osap_free(t);
}

osap_err osap__http_tls_push(struct osap__http_tls *t, const char *data, size_t len)
{
    while (len) {
        int n = (int)(len > 65536 ? 65536 : len);
        if (BIO_write(t->rbio, data, n) != n) {
            ERR_clear_error();
            return OSAP_ENOMEM;
        }
        t->rbio_bytes += (size_t)n;
        data += n;
        len -= (size_t)n;
    }
    return OSAP_OK;
}

int osap__http_tls_read(struct osap__http_tls *t, char *buf, size_t cap)
{
    int n = SSL_read(t->ssl, buf, (int)(cap > 65536 ? 65536 : cap));
    if (n > 0) return n;
    switch (SSL_get_error(t->ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: return 0;
    default: ERR_clear_error(); return -1;
    }
}

osap_err osap__http_tls_write(struct osap__http_tls *t, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        int n = (int)(len > 65536 ? 65536 : len);
        int w = SSL_write(t->ssl, p, n);
        if (w <= 0) {
            ERR_clear_error();
            return OSAP_EHTTP_TLS;
        }
        p += w;
        len -= (size_t)w;
    }
    return OSAP_OK;
}

size_t osap__http_tls_pending(struct osap__http_tls *t)
{
    return BIO_ctrl_pending(t->wbio);
}

size_t osap__http_tls_take(struct osap__http_tls *t, char *buf, size_t cap)
{
    int n = BIO_read(t->wbio, buf, (int)(cap > INT32_MAX ? INT32_MAX : cap));
    if (n <= 0) return 0;
    t->wbio_bytes += (size_t)n;
    return (size_t)n;
}

bool osap__http_tls_ready(struct osap__http_tls *t)
{
    return SSL_is_init_finished(t->ssl);
}

void osap__http_tls_trim(struct osap__http_tls *t)
{
    if (t->rbio_bytes > HTTP_TLS_TRIM_BYTES && BIO_ctrl_pending(t->rbio) == 0) {
        BIO *b = new_mem_bio();
        if (b) {
            SSL_set0_rbio(t->ssl, b); /* frees the old one */
            t->rbio = b;
            t->rbio_bytes = 0;
        }
    }
    if (t->wbio_bytes > HTTP_TLS_TRIM_BYTES && BIO_ctrl_pending(t->wbio) == 0) {
        BIO *b = new_mem_bio();
        if (b) {
            SSL_set0_wbio(t->ssl, b);
            t->wbio = b;
            t->wbio_bytes = 0;
        }
    }
}

void osap__http_tls_shutdown(struct osap__http_tls *t)
{
    if (SSL_is_init_finished(t->ssl)) SSL_shutdown(t->ssl);
    ERR_clear_error();
}
