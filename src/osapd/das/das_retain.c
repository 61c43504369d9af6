/* Retained messages: one topic tree for the whole DAS under a mutex. It is touched
 * by PUBLISH packets with RETAIN set and by SUBSCRIBE, never by ordinary routing.
 * It is bounded by [das] max_retained (topics) and max_retained_bytes (topics and
 * payloads): a message that does not fit is delivered but not retained, and the
 * topic's older message, superseded, is cleared. That is logged once, until a
 * client clears a retained message again. */
#include "das/das_internal.h"

#include "log.h"
#include "osap/alloc.h"

#include <string.h>

osap_err das_retain_init(struct das_retain *r)
{
    osap_err err = das_trie_init(&r->trie);
    if (err) return err;
    if (uv_mutex_init(&r->lock) != 0) {
        das_trie_release(&r->trie);
        return OSAP_ENOMEM;
    }
    r->count = 0;
    r->bytes = 0;
    r->full_logged = false;
    r->changes = 0;
    return OSAP_OK;
}

void das_retain_release(struct das_retain *r)
{
    if (!r->trie.root) return;
    for (size_t i = 0; i < r->trie.nbuckets; i++)
        for (struct das_tnode *n = r->trie.buckets[i]; n; n = n->hnext) {
            das_msg_unref(n->retained);
            n->retained = NULL;
        }
    das_trie_release(&r->trie);
    uv_mutex_destroy(&r->lock);
}

static size_t retained_size(const struct das_msg *m)
{
    return (size_t)m->topic_len + m->payload_len;
}

/* Clear the retained message of node @p n (locked). */
static void clear_node(struct das_retain *r, struct das_tnode *n)
{
    r->bytes -= retained_size(n->retained);
    r->count--;
    das_msg_unref(n->retained);
    n->retained = NULL;
    das_trie_prune(&r->trie, n);
}

/* Log once that @p m is not kept (locked). */
static void not_kept(struct das_retain *r, const struct das_msg *m, const char *why,
                     unsigned long long limit)
{
    if (r->full_logged) return;
    r->full_logged = true;
    OSAP_LOGW(DAS_LOG,
              "retained message for %s not kept: %s (%llu) reached; further ones are not "
              "logged until a retained message is cleared",
              m->topic, why, limit);
}

void das_retain_store(struct das *das, struct das_msg *m)
{
    struct das_retain *r = &das->retain;
    const struct das_settings *set = &das->set;
    uint64_t size = retained_size(m), old_size;
    struct das_tnode *n;

    uv_mutex_lock(&r->lock);
    n = das_trie_find(&r->trie, m->topic, m->topic_len);
    r->changes++;
    if (m->payload_len == 0) {
        if (n && n->retained) {
            clear_node(r, n);
            r->full_logged = false; /* room again: the next refusal is logged */
        }
        goto out;
    }
    old_size = n && n->retained ? retained_size(n->retained) : 0;
    if (!old_size && set->max_retained && r->count >= set->max_retained) {
        not_kept(r, m, "max_retained", (unsigned long long)set->max_retained);
        goto out;
    }
    if (set->max_retained_bytes && r->bytes - old_size + size > set->max_retained_bytes) {
        if (old_size) clear_node(r, n); /* superseded: never serve the older message */
        not_kept(r, m, "max_retained_bytes", (unsigned long long)set->max_retained_bytes);
        goto out;
    }
    if (!n && das_trie_insert(&r->trie, m->topic, m->topic_len, &n) != OSAP_OK) {
        OSAP_LOGW(DAS_LOG, "retained message for %s not kept: out of memory", m->topic);
        goto out;
    }
    if (n->retained) {
        r->bytes -= old_size;
        das_msg_unref(n->retained);
    } else {
        r->count++;
    }
    n->retained = das_msg_ref(m);
    r->bytes += size;
out:
    uv_mutex_unlock(&r->lock);
}

/* A growing array of referenced messages. */
struct msg_list {
    struct das_msg **v;
    size_t n, cap;
    bool failed;
};

static void list_add(struct msg_list *l, struct das_msg *m)
{
    if (l->failed) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct das_msg **v = osap_realloc(l->v, cap * sizeof(*v));
        if (!v) {
            l->failed = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = das_msg_ref(m);
}

/* Every retained message at or below @p n ('#'); at the root, topics starting with
 * '$' are left out. Iterative: the tree may be deep. */
static void collect_subtree(struct das_tnode *top, bool is_root, struct msg_list *l)
{
    struct das_tnode *n = top;

    if (!is_root && top->retained) list_add(l, top->retained);
    n = top->first_child;
    while (n) {
        if (!(is_root && n->parent == top && n->len > 0 && n->level[0] == '$')) {
            if (n->retained) list_add(l, n->retained);
            if (n->first_child) {
                n = n->first_child;
                continue;
            }
        }
        /* next: sibling, or the sibling of the nearest ancestor below top */
        while (n != top && !n->next_sibling)
            n = n->parent;
        if (n == top) break;
        n = n->next_sibling;
    }
}

struct walk {
    struct das_tnode *node;
    size_t level;
};

osap_err das_retain_match(struct das *das, const char *filter, size_t len, struct das_msg ***out,
                          size_t *count)
{
    struct das_retain *r = &das->retain;
    struct osap_mqtt_level_iter it;
    struct osap_mqtt_str *levels = NULL, lv;
    struct walk *stack = NULL;
    size_t nlevels = 1, nstack = 0, capstack = 16;
    struct msg_list l = {NULL, 0, 0, false};
    osap_err err = OSAP_ENOMEM;

    for (size_t i = 0; i < len; i++)
        if (filter[i] == '/') nlevels++;
    levels = osap_malloc(nlevels * sizeof(*levels));
    stack = osap_malloc(capstack * sizeof(*stack));
    if (!levels || !stack) goto out;
    nlevels = 0;
    osap_mqtt_level_iter_init(&it, filter, len);
    while (osap_mqtt_level_iter_next(&it, &lv))
        levels[nlevels++] = lv;

    uv_mutex_lock(&r->lock);
    if (r->count == 0) {
        uv_mutex_unlock(&r->lock);
        *out = NULL;
        *count = 0;
        err = OSAP_OK;
        goto out;
    }
    stack[nstack++] = (struct walk){r->trie.root, 0};
    while (nstack > 0 && !l.failed) {
        struct walk cur = stack[--nstack];
        bool at_root = cur.node == r->trie.root;
        if (cur.level == nlevels) {
            if (cur.node->retained) list_add(&l, cur.node->retained);
            continue;
        }
        lv = levels[cur.level];
        if (lv.len == 1 && lv.ptr[0] == '#') {
            collect_subtree(cur.node, at_root, &l);
            continue;
        }
        for (struct das_tnode *c = NULL;;) {
            if (lv.len == 1 && lv.ptr[0] == '+') {
                c = c ? c->next_sibling : cur.node->first_child;
                if (!c) break;
                if (at_root && c->len > 0 && c->level[0] == '$') continue;
            } else {
                if (c) break;
                c = das_trie_child(&r->trie, cur.node, lv.ptr, lv.len);
                if (!c) break;
            }
            if (nstack == capstack) {
                struct walk *ns = osap_realloc(stack, capstack * 2 * sizeof(*stack));
                if (!ns) {
                    l.failed = true;
                    break;
                }
                stack = ns;
                capstack *= 2;
            }
            stack[nstack++] = (struct walk){c, cur.level + 1};
        }
    }
    uv_mutex_unlock(&r->lock);
    if (l.failed) goto out;
    *out = l.v;
    *count = l.n;
    l.v = NULL;
    l.n = 0;
    err = OSAP_OK;
out:
    das_retain_free_list(l.v, l.n);
    osap_free(levels);
    osap_free(stack);
    return err;
}

void das_retain_free_list(struct das_msg **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        das_msg_unref(list[i]);
    osap_free(list);
}

uint64_t das_retain_changes(struct das *das)
{
    uint64_t n;
    uv_mutex_lock(&das->retain.lock);
    n = das->retain.changes;
    uv_mutex_unlock(&das->retain.lock);
    return n;
}

osap_err das_retain_snapshot(struct das *das, struct das_msg ***out, size_t *n, uint64_t *changes)
{
    struct das_retain *r = &das->retain;
    struct msg_list l = {NULL, 0, 0, false};
    uint64_t count;

    uv_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->trie.nbuckets; i++)
        for (struct das_tnode *t = r->trie.buckets[i]; t; t = t->hnext)
            if (t->retained) list_add(&l, t->retained);
    count = r->changes;
    uv_mutex_unlock(&r->lock);
    if (l.failed) {
        das_retain_free_list(l.v, l.n);
        return OSAP_ENOMEM;
    }
    *out = l.v;
    *n = l.n;
    *changes = count;
    return OSAP_OK;
}
