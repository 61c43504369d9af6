/* Tokens of the OSAP model language (docs/MODEL.md, "Lexical rules"). */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUMBER_TEXT_MAX 64
#define STRING_MAX      4096

void osap__lex_init(struct osap__lexer *lx, const char *file, const char *src, size_t len,
                    struct osap__arena *arena, struct osap__diag *diag)
{
    lx->src = src;
    lx->len = len;
    lx->off = 0;
    lx->pos.file = file;
    lx->pos.line = 1;
    lx->pos.col = 1;
    lx->arena = arena;
    lx->diag = diag;
    /* A UTF-8 byte order mark is not part of the text. */
    if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) lx->off = 3;
}

static int peek_at(const struct osap__lexer *lx, size_t ahead)
{
    if (lx->off + ahead >= lx->len) return -1;
    return (unsigned char)lx->src[lx->off + ahead];
}

static void bump(struct osap__lexer *lx)
{
    if (lx->src[lx->off] == '\n') {
        lx->pos.line++;
        lx->pos.col = 1;
    } else {
        lx->pos.col++;
    }
    lx->off++;
}

static osap_err lex_error(struct osap__lexer *lx, struct osap__pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static osap_err lex_error(struct osap__lexer *lx, struct osap__pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    osap__diag_vat(lx->diag, pos, fmt, ap);
    va_end(ap);
    return OSAP_EMODEL_SYNTAX;
}

static bool is_name_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_name_char(int c)
{
    return is_name_start(c) || is_digit(c);
}

/* Skip blanks and comments. */
static osap_err skip_space(struct osap__lexer *lx)
{
    for (;;) {
        int c = peek_at(lx, 0);
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
            bump(lx);
        } else if (c == '/' && peek_at(lx, 1) == '/') {
            while (peek_at(lx, 0) >= 0 && peek_at(lx, 0) != '\n')
                bump(lx);
        } else if (c == '/' && peek_at(lx, 1) == '*') {
            struct osap__pos start = lx->pos;
            bump(lx);
            bump(lx);
            for (;;) {
                if (peek_at(lx, 0) < 0) return lex_error(lx, start, "unterminated comment");
                if (peek_at(lx, 0) == '*' && peek_at(lx, 1) == '/') {
                    bump(lx);
                    bump(lx);
                    break;
                }
                bump(lx);
            }
        } else {
            return OSAP_OK;
        }
    }
}

static osap_err lex_number(struct osap__lexer *lx, struct osap__token *tok)
{
    size_t start = lx->off;
    bool is_int = true;
    if (peek_at(lx, 0) == '-') bump(lx);
    while (is_digit(peek_at(lx, 0)))
        bump(lx);
    /* A '.' belongs to the number only when a digit follows ("0..9" is a range). */
    if (peek_at(lx, 0) == '.' && is_digit(peek_at(lx, 1))) {
        is_int = false;
        bump(lx);
        while (is_digit(peek_at(lx, 0)))
            bump(lx);
    }
    if (peek_at(lx, 0) == 'e' || peek_at(lx, 0) == 'E') {
        size_t k = 1;
        if (peek_at(lx, 1) == '+' || peek_at(lx, 1) == '-') k = 2;
        if (is_digit(peek_at(lx, k))) {
            is_int = false;
            while (k--)
                bump(lx);
            while (is_digit(peek_at(lx, 0)))
                bump(lx);
        }
    }
    size_t n = lx->off - start;
    if (is_name_char(peek_at(lx, 0))) {
        while (is_name_char(peek_at(lx, 0)))
            bump(lx);
        n = lx->off - start;
        return lex_error(lx, tok->pos, "invalid number '%.*s'", (int)(n > 40 ? 40 : n),
                         lx->src + start);
    }
    if (n >= NUMBER_TEXT_MAX) return lex_error(lx, tok->pos, "number too long");
    char text[NUMBER_TEXT_MAX];
    memcpy(text, lx->src + start, n);
    text[n] = '\0';
    tok->start = lx->src + start;
    tok->len = n;
    errno = 0;
    if (is_int) {
        char *end;
        long long v = strtoll(text, &end, 10);
        if (errno == ERANGE) return lex_error(lx, tok->pos, "integer %s is out of range", text);
        tok->kind = OSAP__TOK_INT;
        tok->ival = v;
        tok->dval = (double)v;
    } else {
        char *end;
        double v = strtod(text, &end);
        if (errno == ERANGE && (v > 1.0 || v < -1.0))
            return lex_error(lx, tok->pos, "number %s is out of range", text);
        tok->kind = OSAP__TOK_NUMBER;
        tok->dval = v;
    }
    return OSAP_OK;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Length of the valid UTF-8 sequence starting at the current offset, or 0. */
static size_t utf8_length(const struct osap__lexer *lx)
{
    int c = peek_at(lx, 0);
    size_t n;
    unsigned cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = (unsigned)c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = (unsigned)c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = (unsigned)c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        int cc = peek_at(lx, i);
        if (cc < 0 || (cc & 0xC0) != 0x80) return 0;
        cp = cp << 6 | ((unsigned)cc & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    return n;
}

static size_t utf8_encode(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | cp >> 12);
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

static osap_err lex_string(struct osap__lexer *lx, struct osap__token *tok)
{
    char out[STRING_MAX + 1];
    size_t n = 0;
    size_t start = lx->off;
    bump(lx); /* opening quote */
    for (;;) {
        int c = peek_at(lx, 0);
        struct osap__pos here = lx->pos;
        if (c < 0 || c == '\n') return lex_error(lx, tok->pos, "unterminated string");
        if (c == '"') {
            bump(lx);
            break;
        }
        if (n + 4 > STRING_MAX)
            return lex_error(lx, tok->pos, "string longer than %d bytes", STRING_MAX);
        if (c < 0x20 || c == 0x7F)
            return lex_error(lx, here, "control character 0x%02x in string", (unsigned)c);
        if (c == '\\') {
            int e = peek_at(lx, 1);
            switch (e) {
            case '"': out[n++] = '"'; break;
            case '\\': out[n++] = '\\'; break;
            case '/': out[n++] = '/'; break;
            case 'n': out[n++] = '\n'; break;
            case 't': out[n++] = '\t'; break;
            case 'r': out[n++] = '\r'; break;
            case 'u': {
                unsigned cp = 0;
                for (size_t i = 2; i < 6; i++) {
                    int h = hex_value(peek_at(lx, i));
                    if (h < 0) return lex_error(lx, here, "invalid \\u escape in string");
                    cp = cp << 4 | (unsigned)h;
                }
                if (cp == 0) return lex_error(lx, here, "NUL character in string");
                if (cp >= 0xD800 && cp <= 0xDFFF)
                    return lex_error(lx, here, "surrogate \\u%04x in string", cp);
                n += utf8_encode(cp, out + n);
                for (int i = 0; i < 4; i++)
                    bump(lx);
                break;
            }
            default:
                if (e >= 0x21 && e < 0x7F)
                    return lex_error(lx, here, "invalid escape '\\%c' in string", e);
                return lex_error(lx, here, "invalid escape in string");
            }
            bump(lx);
            bump(lx);
            continue;
        }
        size_t u = utf8_length(lx);
        if (!u) return lex_error(lx, here, "invalid UTF-8 in string");
        for (size_t i = 0; i < u; i++) {
            out[n++] = lx->src[lx->off];
            bump(lx);
        }
    }
    tok->kind = OSAP__TOK_STRING;
    tok->sval = osap__arena_strndup(lx->arena, out, n);
    if (!tok->sval) return OSAP_ENOMEM;
    tok->start = lx->src + start;
    tok->len = lx->off - start;
    return OSAP_OK;
}

osap_err osap__lex_next(struct osap__lexer *lx, struct osap__token *tok)
{
    osap_err rc = skip_space(lx);
    if (rc) return rc;
    memset(tok, 0, sizeof(*tok));
    tok->pos = lx->pos;
    tok->start = lx->src + lx->off;
    int c = peek_at(lx, 0);
    if (c < 0) {
        tok->kind = OSAP__TOK_EOF;
        return OSAP_OK;
    }
    if (is_name_start(c)) {
        while (is_name_char(peek_at(lx, 0)))
            bump(lx);
        tok->kind = OSAP__TOK_NAME;
        tok->len = (size_t)(lx->src + lx->off - tok->start);
        return OSAP_OK;
    }
    if (is_digit(c) || (c == '-' && is_digit(peek_at(lx, 1)))) return lex_number(lx, tok);
    if (c == '"') return lex_string(lx, tok);
    enum osap__tok kind;
    size_t n = 1;
    switch (c) {
    case '{': kind = OSAP__TOK_LBRACE; break;
    case '}': kind = OSAP__TOK_RBRACE; break;
    case '[': kind = OSAP__TOK_LBRACKET; break;
    case ']': kind = OSAP__TOK_RBRACKET; break;
    case ':': kind = OSAP__TOK_COLON; break;
    case ';': kind = OSAP__TOK_SEMI; break;
    case ',': kind = OSAP__TOK_COMMA; break;
    case '=': kind = OSAP__TOK_EQUALS; break;
    case '.':
        if (peek_at(lx, 1) == '.') {
            kind = OSAP__TOK_DOTDOT;
            n = 2;
            break;
        }
        return lex_error(lx, tok->pos, "invalid character '.'");
    default:
        if (c > 0x20 && c < 0x7F) return lex_error(lx, tok->pos, "invalid character '%c'", c);
        return lex_error(lx, tok->pos, "invalid byte 0x%02x", (unsigned)c);
    }
    while (n--)
        bump(lx);
    tok->kind = kind;
    tok->len = (size_t)(lx->src + lx->off - tok->start);
    return OSAP_OK;
}

void osap__tok_describe(const struct osap__token *tok, char *buf, size_t len)
{
    switch (tok->kind) {
    case OSAP__TOK_EOF: snprintf(buf, len, "end of file"); break;
    case OSAP__TOK_NAME:
        snprintf(buf, len, "'%.*s'%s", (int)(tok->len > 40 ? 40 : tok->len), tok->start,
                 tok->len > 40 ? "..." : "");
        break;
    case OSAP__TOK_INT:
    case OSAP__TOK_NUMBER: snprintf(buf, len, "number %.*s", (int)tok->len, tok->start); break;
    case OSAP__TOK_STRING: {
        size_t n = strlen(tok->sval);
        snprintf(buf, len, "string \"%.*s%s\"", (int)(n > 24 ? 24 : n), tok->sval,
                 n > 24 ? "..." : "");
        break;
    }
    default: snprintf(buf, len, "'%.*s'", (int)tok->len, tok->start); break;
    }
}
