/* Lists with cursor pagination (devices, events, pictures): one page, or all
 * of them with --all. */
#include "ctl.h"

#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>

int ctl_list(const struct ctl *ctl, const char *target, const char *cursor, bool all,
             ctl_item_fn item, void *userdata)
{
    struct ctl_buf url = {0};
    struct ctl_response resp;
    cJSON *merged = NULL, *merged_items = NULL, *page = NULL;
    char *next = cursor ? osap_strdup(cursor) : NULL;
    int rc = CTL_OK;

    if (cursor && !next) goto nomem;
    if (ctl->json && all) {
        merged = cJSON_CreateObject();
        merged_items = cJSON_AddArrayToObject(merged, "items");
        if (!merged_items || !cJSON_AddNullToObject(merged, "next_cursor")) goto nomem;
    }
    for (;;) {
        struct ctl_request rq = {.method = "GET"};
        const cJSON *items, *it, *nc;

        ctl_buf_reset(&url);
        if (ctl_buf_puts(&url, target) || (next && ctl_url_query(&url, "cursor", next))) goto nomem;
        rq.target = url.data;
        rc = ctl_call(ctl, &rq, &resp, &page);
        if (rc) {
            ctl_response_release(&resp);
            goto out;
        }
        items = cJSON_GetObjectItemCaseSensitive(page, "items");
        nc = cJSON_GetObjectItemCaseSensitive(page, "next_cursor");
        if (!cJSON_IsArray(items)) {
            ctl_error("the response has no list of items");
            ctl_response_release(&resp);
            rc = CTL_ECONN;
            goto out;
        }
        if (ctl->json && !all) {
            ctl_print_body(&resp);
        } else if (ctl->json) {
            while (items->child) {
                cJSON *moved = cJSON_DetachItemViaPointer((cJSON *)items, items->child);
                cJSON_AddItemToArray(merged_items, moved);
            }
        } else {
            cJSON_ArrayForEach(it, items)
            {
                rc = item(userdata, it);
                if (rc) {
                    ctl_response_release(&resp);
                    goto out;
                }
            }
        }
        ctl_response_release(&resp);
        osap_free(next);
        next = cJSON_IsString(nc) && nc->valuestring[0] ? osap_strdup(nc->valuestring) : NULL;
        cJSON_Delete(page);
        page = NULL;
        if (!next) break;
        if (!all) {
            if (!ctl->json) fprintf(stderr, "more: --cursor %s (or --all)\n", next);
            break;
        }
    }
    if (merged) {
        char *text = cJSON_PrintUnformatted(merged);
        if (!text) goto nomem;
        puts(text);
        cJSON_free(text);
    }
out:
    cJSON_Delete(page);
    cJSON_Delete(merged);
    osap_free(next);
    ctl_buf_release(&url);
    return rc;
nomem:
    ctl_error("out of memory");
    rc = CTL_EAPI;
    goto out;
}
