/*
 * osapctl, internal: the command-line client of the OSAP platform's REST API
 * (/api/v1, docs/API.md). What its files share:
 *
 *   main.c          global options, the command table, usage
 *   ctl_args.c      option parsing of one command (long options anywhere)
 *   ctl_buf.c       a growable byte buffer with a ceiling
 *   ctl_url.c       the platform URL, percent-encoding, query strings
 *   ctl_conn.c      TCP (and TLS with OpenSSL) with deadlines
 *   ctl_http.c      HTTP/1.1 requests; responses parsed with llhttp
 *   ctl_sse.c       the Server-Sent Events parser (events tail)
 *   ctl_output.c    tables, JSON, API errors and exit codes
 *   cmd_*.c         one file per command group
 *
 * Every function that can fail returns an exit code (enum ctl_exit) after
 * printing its message to standard error; 0 is success.
 */
#ifndef OSAPCTL_CTL_H
#define OSAPCTL_CTL_H

#include <cjson/cJSON.h>
#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Exit codes, documented in docs/man/osapctl.1. */
enum ctl_exit {
    CTL_OK = 0,      /**< done */
    CTL_EAPI = 1,    /**< the API answered an error (its code is printed), or a local failure */
    CTL_EUSAGE = 2,  /**< bad command line */
    CTL_ECONN = 3,   /**< cannot connect, TLS failure, broken or malformed response */
    CTL_ETIMEOUT = 4 /**< no answer in time, or the device is offline / did not answer */
};

/** Largest response body kept in memory (pictures are streamed to files). */
#define CTL_BODY_MAX (64u * 1024u * 1024u)
/** Largest response head (status line and header fields). */
#define CTL_HEAD_MAX (64u * 1024u)
/** Largest Server-Sent Events message (all its data lines). */
#define CTL_SSE_MAX (4u * 1024u * 1024u)
/** Default platform URL (the api service's default address). */
#define CTL_DEFAULT_URL "http://127.0.0.1:8080"
/** Default timeout of one request, seconds. */
#define CTL_DEFAULT_TIMEOUT 30.0

/* ------------------------------------------------------------------------ */
/* ctl_buf.c                                                                */
/* ------------------------------------------------------------------------ */

/** A growable buffer, always NUL-terminated when data is not NULL. */
struct ctl_buf {
    char *data;
    size_t len, cap;
    size_t max; /**< ceiling of len; 0 = CTL_BODY_MAX */
};

/** Append @p n bytes; -1 when out of memory or over the ceiling. */
int ctl_buf_add(struct ctl_buf *b, const void *p, size_t n);
/** Append a string. */
int ctl_buf_puts(struct ctl_buf *b, const char *s);
/** Append formatted text. */
int ctl_buf_printf(struct ctl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Empty the buffer (keeps the memory). */
void ctl_buf_reset(struct ctl_buf *b);
/** Free the memory. */
void ctl_buf_release(struct ctl_buf *b);

/* ------------------------------------------------------------------------ */
/* ctl_url.c                                                                */
/* ------------------------------------------------------------------------ */

/** The platform's address, from --url / OSAP_URL. */
struct ctl_url {
    bool tls;
    char host[256];     /**< without brackets */
    char port[8];       /**< decimal */
    char prefix[512];   /**< path before /api/v1, without a trailing '/' ("" or "/osap") */
    char hostport[280]; /**< for the Host header field */
};

/** Parse "http[s]://host[:port][/prefix]"; -1 with a message in @p err. */
int ctl_url_parse(const char *text, struct ctl_url *out, char *err, size_t errcap);

/** Append @p s percent-encoded for a path segment or a query value. */
int ctl_url_escape(struct ctl_buf *b, const char *s);

/** Append "?name=value" or "&name=value" (value escaped); NULL value: nothing. */
int ctl_url_query(struct ctl_buf *b, const char *name, const char *value);

/* ------------------------------------------------------------------------ */
/* The client (main.c)                                                      */
/* ------------------------------------------------------------------------ */

/** Global options and state of one run. */
struct ctl {
    struct ctl_url url;
    const char *token; /**< never printed */
    bool json;
    double timeout_s;   /**< per request; <= 0: none */
    const char *cacert; /**< PEM file of trusted CAs for https (NULL: the system's) */
    bool insecure;      /**< https without certificate verification */
    bool have_url;
};

/** Is @p name (without dashes) a global option: -1 no, 0 a flag, 1 one that
 *  takes a value. Commands accept them after the command too. */
int ctl_global_kind(const char *name);

/** Apply the global option @p name (@p value NULL for flags): CTL_OK or
 *  CTL_EUSAGE (printed). */
int ctl_global_set(struct ctl *ctl, const char *name, const char *value);

/* ------------------------------------------------------------------------ */
/* ctl_args.c                                                               */
/* ------------------------------------------------------------------------ */

/** One option of a command: "--name VALUE", "--name=VALUE" or a flag. */
struct ctl_opt {
    const char *name; /**< without the dashes */
    char alias;       /**< short form ('o' for -o), 0 = none */
    bool has_value;
    const char **value; /**< where the value goes (has_value) */
    bool *flag;         /**< set to true (flags) */
};

/** Parsed command arguments. */
struct ctl_args {
    const char *pos[8]; /**< positional arguments in order */
    int npos;
};

/**
 * Parse @p argv (the words after the command) against @p opts (terminated by a
 * zero entry) and the global options; "--" ends the options, and words that
 * do not start with "--" (such as "-5" or a JSON value) are positional.
 * Returns CTL_OK or CTL_EUSAGE (message printed).
 */
int ctl_args_parse(struct ctl *ctl, int argc, char **argv, const struct ctl_opt *opts, int min_pos,
                   int max_pos, struct ctl_args *out);

/** Parse a positive number of seconds ("2", "0.5"); -1 when not one. */
int ctl_parse_seconds(const char *s, double *out);

/** Parse a non-negative integer; -1 when not one. */
int ctl_parse_u64(const char *s, uint64_t *out);

/* ------------------------------------------------------------------------ */
/* ctl_conn.c                                                               */
/* ------------------------------------------------------------------------ */

struct ctl_conn;

/** Milliseconds of a monotonic clock. */
int64_t ctl_now_ms(void);

/** Connect to the platform (TCP, then TLS for https) before @p deadline_ms
 *  (0 = no deadline). CTL_ECONN or CTL_ETIMEOUT on failure (printed). */
int ctl_conn_open(const struct ctl *ctl, int64_t deadline_ms, struct ctl_conn **out);

/** Write everything. */
int ctl_conn_write(struct ctl_conn *c, const void *p, size_t n, int64_t deadline_ms);

/** Read what is there (at least one byte) into @p p; *@p n 0 at end of stream.
 *  CTL_ETIMEOUT at the deadline, CTL_ECONN on failure; an interrupted read
 *  (signal) with *@p interrupted set returns CTL_OK with *n 0. */
int ctl_conn_read(struct ctl_conn *c, void *p, size_t cap, size_t *n, int64_t deadline_ms,
                  volatile int *interrupted);

/** Close and free (NULL is a no-op). */
void ctl_conn_close(struct ctl_conn *c);

/* ------------------------------------------------------------------------ */
/* ctl_http.c                                                               */
/* ------------------------------------------------------------------------ */

/** Receives the body of a 2xx response as it arrives; non-zero stops (the
 *  request then returns that value). */
typedef int (*ctl_body_fn)(void *userdata, const char *data, size_t len);

/** One request. */
struct ctl_request {
    const char *method;
    const char *target;       /**< "/api/v1/..." with its query (the URL prefix is added) */
    const char *content_type; /**< of the body, NULL = none */
    const void *body;
    size_t body_len;
    const char *accept;        /**< NULL = application/json */
    const char *last_event_id; /**< Last-Event-ID header, NULL = none */
    ctl_body_fn sink;          /**< for 2xx bodies; NULL = keep in the response */
    void *sink_userdata;
    double timeout_s;          /**< 0 = the global --timeout; < 0 = none */
    volatile int *interrupted; /**< set by a signal handler: stop quietly */
};

/** The response. */
struct ctl_response {
    int status;
    struct ctl_buf body; /**< the body (error bodies always, 2xx without a sink) */
    char content_type[128];
    bool complete; /**< the whole message arrived */
};

/** Send @p rq and read the response. CTL_OK whatever the HTTP status (look at
 *  resp->status), else CTL_ECONN / CTL_ETIMEOUT (printed), or the sink's value.
 *  Release @p resp with ctl_response_release() in every case. */
int ctl_http(const struct ctl *ctl, const struct ctl_request *rq, struct ctl_response *resp);

/** Free the response's memory. */
void ctl_response_release(struct ctl_response *resp);

/** Where reading a response stands (ctl_http_reader_feed()). */
enum ctl_http_read {
    CTL_READ_MORE = 0,       /**< more bytes are needed */
    CTL_READ_DONE,           /**< the response is complete (resp->complete) */
    CTL_READ_CLOSED,         /**< the stream ended before the response was complete */
    CTL_READ_SINK,           /**< the request's sink stopped the body (value in sink_rc) */
    CTL_READ_TOO_LARGE,      /**< the kept body would exceed its ceiling */
    CTL_READ_HEAD_TOO_LARGE, /**< the head exceeds CTL_HEAD_MAX */
    CTL_READ_MALFORMED,      /**< not HTTP/1.x (llhttp_get_error_reason() says why) */
};

/** The response side of one request, without I/O: ctl_http() feeds it what the
 *  connection reads. Embedded; nothing to release but the response. */
struct ctl_http_reader {
    llhttp_t parser;
    struct ctl_response *resp;
    const struct ctl_request *rq;
    size_t head_bytes; /**< status text, header names and values */
    char field[64];    /**< the header name being read (cut: field_long) */
    size_t field_len;
    bool field_long;
    bool is_ctype;
    size_t ctype_len;
    bool too_large;
    int sink_rc; /**< the sink's non-zero value that stopped the body */
};

/** Start reading the response to @p rq into @p resp (cleared here; 2xx bodies go to
 *  rq->sink when it has one). */
void ctl_http_reader_init(struct ctl_http_reader *r, const struct ctl_request *rq,
                          struct ctl_response *resp);

/** Feed @p n bytes received (@p n 0: the stream ended). Anything but CTL_READ_MORE is
 *  final: feed nothing more. */
enum ctl_http_read ctl_http_reader_feed(struct ctl_http_reader *r, const char *data, size_t n);

/* ------------------------------------------------------------------------ */
/* ctl_sse.c                                                                */
/* ------------------------------------------------------------------------ */

/** One Server-Sent Events message. */
struct ctl_sse_event {
    const char *id;    /**< the message's id field, "" when it had none */
    const char *event; /**< "message" when none */
    const char *data;  /**< the data lines joined with '\n' */
};

/** Called once per complete message; non-zero stops the parser (returned). */
typedef int (*ctl_sse_fn)(void *userdata, const struct ctl_sse_event *ev);

/** An incremental text/event-stream parser (WHATWG rules: lines end with CRLF,
 *  LF or CR; "field: value"; comments; a blank line dispatches). */
struct ctl_sse {
    struct ctl_buf line, data;
    char event[64], last_id[64];
    bool cr;        /**< the last byte was CR (a following LF belongs to it) */
    bool have_data; /**< a data field was seen */
    bool have_id;   /**< this message had an id field */
    ctl_sse_fn fn;
    void *userdata;
};

/** Set up @p p (embedded). */
void ctl_sse_init(struct ctl_sse *p, ctl_sse_fn fn, void *userdata);
/** Feed bytes; returns 0, -1 (a line or message over CTL_SSE_MAX, or out of
 *  memory) or the callback's non-zero value. */
int ctl_sse_feed(struct ctl_sse *p, const char *data, size_t len);
/** Forget a partial message (after a reconnection); last_id stays. */
void ctl_sse_reset(struct ctl_sse *p);
/** Free the buffers. */
void ctl_sse_release(struct ctl_sse *p);

/* ------------------------------------------------------------------------ */
/* ctl_output.c                                                             */
/* ------------------------------------------------------------------------ */

/** Print "osapctl: " and the message to standard error. */
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Turn an HTTP response into an exit code: 2xx -> CTL_OK; an API error body
 * {"error":{"code","message","field"}} is printed ("osapctl: CODE: message")
 * and gives CTL_ETIMEOUT for device_offline, device_timeout and
 * device_disconnected, CTL_EAPI otherwise. With --json the error body is also
 * printed on standard output as it came.
 */
int ctl_check(const struct ctl *ctl, const struct ctl_response *resp);

/** Send a request with a JSON response and check it: ctl_http() + ctl_check().
 *  On CTL_OK *@p out (may be NULL) receives the parsed body (NULL for an empty
 *  one); release @p resp in every case. */
int ctl_call(const struct ctl *ctl, const struct ctl_request *rq, struct ctl_response *resp,
             cJSON **out);

/** Print the body as it came (followed by a newline when it has none). */
void ctl_print_body(const struct ctl_response *resp);

/** A JSON value as compact text (a new string, free with osap_free), or NULL. */
char *ctl_json_text(const cJSON *v);

/** The string member @p name of @p o, or @p dflt when absent, null or not a
 *  string. */
const char *ctl_json_str(const cJSON *o, const char *name, const char *dflt);

/** A table: columns, then rows of cells, printed aligned with a header. */
struct ctl_table {
    int ncols;
    const char *heads[12];
    size_t max_width[12]; /**< cut cells longer than this (0 = never) */
    char **cells;         /**< nrows * ncols copies */
    size_t nrows, cap;
};

/** Start a table of @p ncols columns named by the NULL-terminated @p heads. */
void ctl_table_init(struct ctl_table *t, const char *const *heads);
/** Add a row of ncols strings (NULL prints "-"). -1 when out of memory. */
int ctl_table_row(struct ctl_table *t, const char *const *cells);
/** Print the table to standard output ("(none)" when it has no rows, unless
 *  @p quiet_empty). */
void ctl_table_print(const struct ctl_table *t, bool quiet_empty);
/** Free the cells. */
void ctl_table_release(struct ctl_table *t);

/** Print "name: value" lines of an object's members in order, values as
 *  text (strings bare, others as compact JSON). */
void ctl_print_fields(const cJSON *o);

/* ------------------------------------------------------------------------ */
/* ctl_devreq.c: attribute sets and operations                              */
/* ------------------------------------------------------------------------ */

/** A request to a device. */
struct ctl_devreq {
    bool operation; /**< POST .../operations/...; else PUT .../attributes/... */
    const char *serial, *domain, *identifier;
    const char *json; /**< the value (set) or the input (operation), JSON text */
    const char *resource, *child, *device_timeout; /**< NULL = the server's default */
    bool async;
};

/** Send @p r and print the device's answer (or the accepted request). */
int ctl_devreq_run(const struct ctl *ctl, const struct ctl_devreq *r);

/** CTL_EUSAGE (printed, naming @p what) when @p text is not JSON (cmd_attr.c). */
int ctl_json_arg(const char *what, const char *text);

/* ------------------------------------------------------------------------ */
/* Commands (cmd_*.c): argv[0] is the group's sub-command                   */
/* ------------------------------------------------------------------------ */

int ctl_cmd_device(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_attr(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_op(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_request(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_events(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_picture(struct ctl *ctl, int argc, char **argv);

/** Usage line(s) of a group, printed with CTL_EUSAGE. */
int ctl_usage_group(const char *group);

/* ------------------------------------------------------------------------ */
/* ctl_list.c                                                               */
/* ------------------------------------------------------------------------ */

/** Called for each element of a page's "items" (table output only). */
typedef int (*ctl_item_fn)(void *userdata, const cJSON *item);

/**
 * GET the list @p target ("/api/v1/...", with or without a query), starting at
 * @p cursor (NULL = the first page). Without --json, @p item gets every
 * element and, when a next page exists and @p all is false, its cursor is
 * printed on standard error. With --json the page is printed as it came; with
 * @p all the pages are followed and printed as one document
 * {"items":[...],"next_cursor":null}.
 */
int ctl_list(const struct ctl *ctl, const char *target, const char *cursor, bool all,
             ctl_item_fn item, void *userdata);

#endif /* OSAPCTL_CTL_H */
