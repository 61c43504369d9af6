/*
 * osapctl: the command-line client of the OSAP platform (REST API /api/v1).
 *
 *   osapctl [--url URL] [--token TOKEN] [--json] [--timeout SECONDS] COMMAND ...
 *
 * See docs/man/osapctl.1. The token is never printed.
 */
#include "ctl.h"

#include "osap/alloc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef OSAP_VERSION
#define OSAP_VERSION "0"
#endif

static const char usage_text[] =
    "usage: osapctl [--url URL] [--token TOKEN | --token-file FILE] [--json]\n"
    "               [--timeout SECONDS] [--cacert FILE] [--insecure] COMMAND ...\n"
    "\n"
    "devices\n"
    "  device add SERIAL (--code CODE | --licence LICENCE) [--model M] [--name N]\n"
    "  device list [--online|--offline] [--blocked|--unblocked] [--model M]\n"
    "              [--search TEXT] [--limit N] [--cursor C] [--all]\n"
    "  device show SERIAL\n"
    "  device rm SERIAL\n"
    "  device block SERIAL\n"
    "  device unblock SERIAL\n"
    "attributes and operations\n"
    "  attr get SERIAL [DOMAIN [IDENTIFIER]]\n"
    "  attr set SERIAL DOMAIN IDENTIFIER VALUE [--resource R] [--child C]\n"
    "           [--device-timeout S] [--async]\n"
    "  op call SERIAL DOMAIN IDENTIFIER [INPUT] [--resource R] [--child C]\n"
    "          [--device-timeout S] [--async]\n"
    "  request show ID [--wait]\n"
    "events\n"
    "  events query [--serial S] [--domain D] [--identifier I] [--level N]\n"
    "               [--since T] [--until T] [--limit N] [--cursor C] [--all]\n"
    "  events tail [--serial S] [--types event,status,attribute]\n"
    "              [--last-event-id ID] [--count N]\n"
    "pictures\n"
    "  picture put FILE [--serial S] [--event ID]\n"
    "  picture get SHA256 [-o FILE]\n"
    "  picture ls [--serial S] [--event ID] [--limit N] [--cursor C] [--all]\n"
    "  picture rm SHA256\n"
    "\n"
    "VALUE and INPUT are JSON ('42', 'true', '\"text\"', '{\"a\":1}').\n"
    "URL and token also come from OSAP_URL and OSAP_TOKEN (default URL " CTL_DEFAULT_URL ").\n"
    "Exit codes: 0 ok, 1 API error, 2 usage, 3 connection failure,\n"
    "4 timeout or device offline. See osapctl(1).\n";

static int usage(FILE *out, int rc)
{
    fputs(usage_text, out);
    return rc;
}

int ctl_usage_group(const char *group)
{
    const char *p = usage_text;
    size_t glen = strlen(group);

    fputs("usage:\n", stderr);
    while ((p = strstr(p, "\n  ")) != NULL) {
        const char *line = p + 3, *end = strchr(line, '\n');
        p = end ? end : line + strlen(line);
        if (strncmp(line, group, glen) != 0 || line[glen] != ' ') continue;
        fprintf(stderr, "  osapctl %.*s\n", (int)(p - line), line);
        /* continuation lines */
        while (*p == '\n' && strncmp(p + 1, "     ", 5) == 0) {
            const char *next = strchr(p + 1, '\n');
            if (!next) break;
            fprintf(stderr, "        %.*s\n", (int)(next - p - 1), p + 1);
            p = next;
        }
    }
    return CTL_EUSAGE;
}

/* ---- global options ---- */

static const struct {
    const char *name;
    int has_value;
} globals[] = {
    {"url", 1},     {"token", 1},  {"token-file", 1}, {"json", 0},
    {"timeout", 1}, {"cacert", 1}, {"insecure", 0},
};

int ctl_global_kind(const char *name)
{
    for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
        if (strcmp(globals[i].name, name) == 0) return globals[i].has_value;
    return -1;
}

/* A token must be something that fits in a header field. */
static bool token_valid(const char *t)
{
    size_t n = strlen(t);

    if (n == 0 || n > 512) return false;
    for (; *t; t++)
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f) return false;
    return true;
}

static char token_buf[600];

static int read_token_file(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f) {
        ctl_error("cannot read the token file %s", path);
        return -1;
    }
    if (!fgets(token_buf, sizeof(token_buf), f)) token_buf[0] = '\0';
    fclose(f);
    n = strcspn(token_buf, "\r\n");
    token_buf[n] = '\0';
    return 0;
}

int ctl_global_set(struct ctl *ctl, const char *name, const char *value)
{
    char err[128];

    if (strcmp(name, "url") == 0) {
        if (ctl_url_parse(value, &ctl->url, err, sizeof(err))) {
            ctl_error("--url: %s", err);
            return CTL_EUSAGE;
        }
        ctl->have_url = true;
    } else if (strcmp(name, "token") == 0 || strcmp(name, "token-file") == 0) {
        if (name[5] == '-') {
            if (read_token_file(value)) return CTL_EUSAGE;
            value = token_buf;
        }
        if (!token_valid(value)) {
            ctl_error("--%s: the token must be 1..512 printable characters without blanks", name);
            return CTL_EUSAGE;
        }
        ctl->token = value;
    } else if (strcmp(name, "json") == 0) {
        ctl->json = true;
    } else if (strcmp(name, "timeout") == 0) {
        if (ctl_parse_seconds(value, &ctl->timeout_s)) {
            ctl_error("--timeout: expected a positive number of seconds");
            return CTL_EUSAGE;
        }
    } else if (strcmp(name, "cacert") == 0) {
        ctl->cacert = value;
    } else if (strcmp(name, "insecure") == 0) {
        ctl->insecure = true;
    } else {
        ctl_error("unknown option --%s", name);
        return CTL_EUSAGE;
    }
    return CTL_OK;
}

/* ---- commands ---- */

static const struct {
    const char *name;
    int (*run)(struct ctl *ctl, int argc, char **argv);
} commands[] = {
    {"device", ctl_cmd_device},   {"attr", ctl_cmd_attr},     {"op", ctl_cmd_op},
    {"request", ctl_cmd_request}, {"events", ctl_cmd_events}, {"picture", ctl_cmd_picture},
};

int main(int argc, char **argv)
{
    struct ctl ctl;
    const char *env;
    char err[128];
    int i;

    memset(&ctl, 0, sizeof(ctl));
    ctl.timeout_s = CTL_DEFAULT_TIMEOUT;
    signal(SIGPIPE, SIG_IGN);

    /* Global options up to the command. */
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *value = NULL;
        char name[32];
        const char *eq;
        size_t len;
        int kind;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return usage(stdout, CTL_OK);
        if (strcmp(a, "--version") == 0) {
            printf("osapctl %s\n", OSAP_VERSION);
            return CTL_OK;
        }
        if (strncmp(a, "--", 2) != 0) break;
        eq = strchr(a + 2, '=');
        len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (len >= sizeof(name)) len = sizeof(name) - 1;
        memcpy(name, a + 2, len);
        name[len] = '\0';
        kind = ctl_global_kind(name);
        if (kind < 0) {
            ctl_error("unknown option %s", a);
            return usage(stderr, CTL_EUSAGE);
        }
        if (eq) value = eq + 1;
        if (kind == 1 && !value) {
            if (i + 1 >= argc) {
                ctl_error("%s needs a value", a);
                return CTL_EUSAGE;
            }
            value = argv[++i];
        } else if (kind == 0 && value) {
            ctl_error("--%s takes no value", name);
            return CTL_EUSAGE;
        }
        if (ctl_global_set(&ctl, name, value)) return CTL_EUSAGE;
    }
    if (i >= argc) return usage(stderr, CTL_EUSAGE);
    if (strcmp(argv[i], "help") == 0) return usage(stdout, CTL_OK);

    if (!ctl.have_url) {
        env = getenv("OSAP_URL");
        if (ctl_url_parse(env && *env ? env : CTL_DEFAULT_URL, &ctl.url, err, sizeof(err))) {
            ctl_error("OSAP_URL: %s", err);
            return CTL_EUSAGE;
        }
    }
    if (!ctl.token) {
        env = getenv("OSAP_TOKEN");
        if (env && *env) {
            if (!token_valid(env)) {
                ctl_error("OSAP_TOKEN: the token must be 1..512 printable characters without "
                          "blanks");
                return CTL_EUSAGE;
            }
            ctl.token = env;
        }
    }
    for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
        if (strcmp(argv[i], commands[c].name) != 0) continue;
        if (i + 1 >= argc || strcmp(argv[i + 1], "--help") == 0 || strcmp(argv[i + 1], "help") == 0)
            return ctl_usage_group(commands[c].name);
        return commands[c].run(&ctl, argc - i - 1, argv + i + 1);
    }
    ctl_error("unknown command '%s'", argv[i]);
    return usage(stderr, CTL_EUSAGE);
}
