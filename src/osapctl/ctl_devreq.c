/* Attribute sets and operations: PUT /api/v1/devices/{serial}/attributes/
 * {domain}/{identifier} and POST .../operations/{domain}/{identifier}, in one
 * round trip (the device's code and output) or asynchronously (a request id
 * to poll with `osapctl request show`). */
#include "ctl.h"

#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>

static int print_result(const struct ctl *ctl, const struct ctl_response *resp, const cJSON *o)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "request_id");

    if (ctl->json) {
        ctl_print_body(resp);
        return CTL_OK;
    }
    ctl_print_fields(o);
    if (resp->status == 202 && cJSON_IsNumber(id))
        fprintf(stderr, "follow it with: osapctl request show %.0f --wait\n", id->valuedouble);
    return CTL_OK;
}

int ctl_devreq_run(const struct ctl *ctl, const struct ctl_devreq *r)
{
    struct ctl_buf url = {0}, body = {0};
    struct ctl_request rq = {.method = r->operation ? "POST" : "PUT"};
    struct ctl_response resp;
    cJSON *o = NULL;
    double dt = 0;
    int rc;

    if (r->device_timeout && ctl_parse_seconds(r->device_timeout, &dt)) {
        ctl_error("--device-timeout: expected a positive number of seconds");
        return CTL_EUSAGE;
    }
    if (ctl_buf_puts(&url, "/api/v1/devices/") || ctl_url_escape(&url, r->serial) ||
        ctl_buf_puts(&url, r->operation ? "/operations/" : "/attributes/") ||
        ctl_url_escape(&url, r->domain) || ctl_buf_puts(&url, "/") ||
        ctl_url_escape(&url, r->identifier) || ctl_url_query(&url, "resource", r->resource) ||
        ctl_url_query(&url, "child", r->child) ||
        ctl_url_query(&url, "timeout", r->device_timeout) ||
        ctl_url_query(&url, "async", r->async ? "1" : NULL) ||
        ctl_buf_printf(&body, "{\"%s\":%s}", r->operation ? "input" : "value",
                       r->json ? r->json : "null")) {
        ctl_error("out of memory");
        rc = CTL_EAPI;
        goto out;
    }
    rq.target = url.data;
    rq.content_type = "application/json";
    rq.body = body.data;
    rq.body_len = body.len;
    /* Wait for the device a little longer than the platform does. */
    if (dt > 0 && ctl->timeout_s > 0 && dt + 5 > ctl->timeout_s) rq.timeout_s = dt + 5;
    rc = ctl_call(ctl, &rq, &resp, &o);
    if (!rc) rc = print_result(ctl, &resp, o);
    ctl_response_release(&resp);
out:
    cJSON_Delete(o);
    ctl_buf_release(&url);
    ctl_buf_release(&body);
    return rc;
}
