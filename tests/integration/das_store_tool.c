/*
 * das-store-tool: what the DAS device tests need from the store, through the
 * store API (the LBS would write the sessions; here a test does):
 *
 *   das-store-tool DATA_DIR session SERIAL DEVID SESSION_KEY_HEX
 *                  (the devid is also set on the device unless another one has it)
 *   das-store-tool DATA_DIR nosession SERIAL
 *   das-store-tool DATA_DIR desired SERIAL CHILD RESOURCE DOMAIN IDENTIFIER VALUE_JSON
 *   das-store-tool DATA_DIR events SERIAL          one JSON object per line
 *   das-store-tool DATA_DIR attributes SERIAL      one JSON object per line
 *   das-store-tool DATA_DIR device SERIAL          one JSON object
 *
 * Exit 0 on success, 1 on a store error (message on standard error), 2 on usage.
 */
#include "store.h"
#include "test_hex.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: das-store-tool DATA_DIR session|nosession|desired|events|"
                    "attributes|device SERIAL ...\n");
    return 2;
}

static int failed(struct osap_store *st, const char *what, osap_err err)
{
    fprintf(stderr, "das-store-tool: %s: %s (%s)\n", what, osap_strerror(err),
            st ? osap_store_errmsg(st) : "");
    return 1;
}

static void print_json(cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    if (text) printf("%s\n", text);
    cJSON_free(text);
    cJSON_Delete(o);
}

static osap_err print_event(const struct osap_event *ev, void *userdata)
{
    cJSON *o = cJSON_CreateObject();
    (void)userdata;
    cJSON_AddNumberToObject(o, "id", (double)ev->id);
    cJSON_AddStringToObject(o, "serial", ev->serial);
    cJSON_AddStringToObject(o, "child", ev->child);
    cJSON_AddStringToObject(o, "resource", ev->resource);
    cJSON_AddStringToObject(o, "domain", ev->domain);
    cJSON_AddStringToObject(o, "identifier", ev->identifier);
    cJSON_AddNumberToObject(o, "seq", (double)ev->seq);
    if (ev->uuid) cJSON_AddStringToObject(o, "uuid", ev->uuid);
    cJSON_AddNumberToObject(o, "level", ev->level);
    cJSON_AddStringToObject(o, "payload", ev->payload);
    cJSON_AddNumberToObject(o, "device_time", (double)ev->device_time);
    cJSON_AddNumberToObject(o, "received_at", (double)ev->received_at);
    if (ev->invalid) cJSON_AddStringToObject(o, "invalid", ev->invalid);
    print_json(o);
    return OSAP_OK;
}

static osap_err print_attribute(const struct osap_attribute *a, void *userdata)
{
    cJSON *o = cJSON_CreateObject();
    (void)userdata;
    cJSON_AddStringToObject(o, "child", a->child);
    cJSON_AddStringToObject(o, "resource", a->resource);
    cJSON_AddStringToObject(o, "domain", a->domain);
    cJSON_AddStringToObject(o, "identifier", a->identifier);
    cJSON_AddStringToObject(o, "value", a->value);
    cJSON_AddNumberToObject(o, "version", (double)a->version);
    if (a->invalid) cJSON_AddStringToObject(o, "invalid", a->invalid);
    print_json(o);
    return OSAP_OK;
}

int main(int argc, char **argv)
{
    struct osap_store_config cfg = {"sqlite", 10000, "normal", 1 << 20};
    struct osap_store *st = NULL;
    const char *cmd, *serial;
    osap_err err;
    int rc = 0;

    if (argc < 4) return usage();
    cmd = argv[2];
    serial = argv[3];
    err = osap_store_open(&cfg, argv[1], &st);
    if (err) return failed(NULL, "open the store", err);

    if (strcmp(cmd, "session") == 0 && argc == 6) {
        struct osap_session s;
        size_t key_len = 0;
        memset(&s, 0, sizeof(s));
        if (test_hex_decode(argv[5], s.session_key, sizeof(s.session_key), &key_len) != 0 ||
            key_len != OSAP_SESSION_KEY_LEN) {
            rc = usage();
            goto out;
        }
        snprintf(s.serial, sizeof(s.serial), "%s", serial);
        snprintf(s.devid, sizeof(s.devid), "%s", argv[4]);
        s.issued_at = 1;
        /* The devid goes on the device too, unless another device holds it (the
         * captures of both modes share one devid): the DAS reads the session's. */
        err = osap_store_device_set_keys(st, serial, argv[4], NULL, OSAP_SHARE_KEY_CASE_UNKNOWN);
        if (err == OSAP_OK || err == OSAP_EEXISTS) err = osap_store_session_put(st, &s);
        if (err) rc = failed(st, "store the session", err);
    } else if (strcmp(cmd, "nosession") == 0 && argc == 4) {
        err = osap_store_session_remove(st, serial);
        if (err && err != OSAP_ENOTFOUND) rc = failed(st, "remove the session", err);
    } else if (strcmp(cmd, "desired") == 0 && argc == 9) {
        struct osap_desired d = {serial, argv[4], argv[5], argv[6], argv[7], argv[8], 0, 0};
        err = osap_store_desired_put(st, &d);
        if (err) rc = failed(st, "store the desired value", err);
    } else if (strcmp(cmd, "events") == 0 && argc == 4) {
        struct osap_event_filter f;
        memset(&f, 0, sizeof(f));
        f.serial = serial;
        err = osap_store_event_list(st, &f, print_event, NULL);
        if (err) rc = failed(st, "list events", err);
    } else if (strcmp(cmd, "attributes") == 0 && argc == 4) {
        struct osap_attribute_filter f;
        memset(&f, 0, sizeof(f));
        f.serial = serial;
        err = osap_store_attribute_list(st, &f, print_attribute, NULL);
        if (err) rc = failed(st, "list attributes", err);
    } else if (strcmp(cmd, "device") == 0 && argc == 4) {
        struct osap_device d;
        err = osap_store_device_get(st, serial, &d);
        if (err) {
            rc = failed(st, "read the device", err);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "serial", d.serial);
            cJSON_AddBoolToObject(o, "online", d.online);
            cJSON_AddBoolToObject(o, "blocked", d.blocked);
            cJSON_AddStringToObject(o, "model", d.model);
            cJSON_AddStringToObject(o, "dev_type", d.dev_type);
            cJSON_AddStringToObject(o, "firmware", d.firmware);
            cJSON_AddStringToObject(o, "address", d.address);
            cJSON_AddStringToObject(o, "das_node", d.das_node);
            cJSON_AddNumberToObject(o, "last_seen", (double)d.last_seen);
            print_json(o);
        }
    } else {
        rc = usage();
    }
out:
    osap_store_close(st);
    return rc;
}
