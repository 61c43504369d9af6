/* Subscriptions of one worker: a trie of topic filters whose nodes list the
 * subscriptions ending there, and matching of published topics against it. Each
 * session has at most one subscription per filter; a message reaches a session once,
 * at the highest QoS of its matching subscriptions. */
#include "das/das_internal.h"

#include "osap/alloc.h"

#include <string.h>

uint32_t das_hint_of(const char *topic, size_t len)
{
    size_t n = 0;
    while (n < len && topic[n] != '/')
        n++;
    if (n == 1 && (topic[0] == '+' || topic[0] == '#')) return DAS_HINT_WILDCARD;
    return das_hash(topic, n, 0) % DAS_HINT_WILDCARD;
}

static struct das_sub *find_sub(struct das_session *s, struct das_tnode *node)
{
    for (struct das_sub *sub = s->subs; sub; sub = sub->next_in_session)
        if (sub->node == node) return sub;
    return NULL;
}

osap_err das_subs_add(struct das_worker *w, struct das_session *s, const char *filter, size_t len,
                      int qos)
{
    struct das_tnode *node = das_trie_find(&w->subs, filter, len);
    struct das_sub *sub;
    osap_err err;

    if (node && (sub = find_sub(s, node)) != NULL) {
        sub->qos = (uint8_t)qos;
        return OSAP_OK;
    }
    if (w->das->set.max_subscriptions && s->nsubs >= w->das->set.max_subscriptions)
        return OSAP_EBUSY;
    sub = osap_calloc(1, sizeof(*sub));
    if (!sub) return OSAP_ENOMEM;
    if (!node) {
        err = das_trie_insert(&w->subs, filter, len, &node);
        if (err) {
            osap_free(sub);
            return err;
        }
    }
    if (node->nsubs == node->capsubs) {
        uint32_t cap = node->capsubs ? node->capsubs * 2 : 2;
        struct das_sub **v = osap_realloc(node->subs, cap * sizeof(*v));
        if (!v) {
            osap_free(sub);
            das_trie_prune(&w->subs, node);
            return OSAP_ENOMEM;
        }
        node->subs = v;
        node->capsubs = cap;
    }
    sub->session = s;
    sub->node = node;
    sub->qos = (uint8_t)qos;
    sub->hint = (uint8_t)das_hint_of(filter, len);
    sub->index = node->nsubs;
    node->subs[node->nsubs++] = sub;
    sub->next_in_session = s->subs;
    s->subs = sub;
    s->nsubs++;
    atomic_fetch_add_explicit(&w->hints[sub->hint], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->nsubs, 1, memory_order_relaxed);
    return OSAP_OK;
}

static void drop_sub(struct das_worker *w, struct das_sub *sub)
{
    struct das_tnode *node = sub->node;
    uint32_t last = node->nsubs - 1;

    if (sub->index != last) {
        node->subs[sub->index] = node->subs[last];
        node->subs[sub->index]->index = sub->index;
    }
    node->nsubs--;
    if (node->nsubs == 0) {
        osap_free(node->subs);
        node->subs = NULL;
        node->capsubs = 0;
    }
    atomic_fetch_sub_explicit(&w->hints[sub->hint], 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&w->nsubs, 1, memory_order_relaxed);
    das_trie_prune(&w->subs, node);
    osap_free(sub);
}

void das_subs_remove(struct das_worker *w, struct das_session *s, const char *filter, size_t len)
{
    struct das_tnode *node = das_trie_find(&w->subs, filter, len);
    struct das_sub **pp;

    if (!node) return;
    for (pp = &s->subs; *pp; pp = &(*pp)->next_in_session) {
        if ((*pp)->node == node) {
            struct das_sub *sub = *pp;
            *pp = sub->next_in_session;
            s->nsubs--;
            drop_sub(w, sub);
            return;
        }
    }
}

void das_subs_clear(struct das_worker *w, struct das_session *s)
{
    while (s->subs) {
        struct das_sub *sub = s->subs;
        s->subs = sub->next_in_session;
        drop_sub(w, sub);
    }
    s->nsubs = 0;
}

/* ------------------------------------------------------------------------ */
/* Matching                                                                 */
/* ------------------------------------------------------------------------ */

static void collect(struct das_worker *w, const struct das_tnode *node)
{
    for (uint32_t i = 0; i < node->nsubs; i++) {
        struct das_sub *sub = node->subs[i];
        struct das_session *s = sub->session;
        if (s->match_epoch != w->match_epoch) {
            if (w->nmatched == w->capmatched) {
                size_t cap = w->capmatched ? w->capmatched * 2 : 64;
                struct das_session **v = osap_realloc(w->matched, cap * sizeof(*v));
                if (!v) continue; /* out of memory: this subscriber misses the message */
                w->matched = v;
                w->capmatched = cap;
            }
            s->match_epoch = w->match_epoch;
            s->match_qos = sub->qos;
            w->matched[w->nmatched++] = s;
        } else if (sub->qos > s->match_qos) {
            s->match_qos = sub->qos;
        }
    }
}

struct match_state {
    const struct das_tnode *node;
    size_t pos; /* offset of the next level in the topic */
    bool ended; /* every level consumed */
};

void das_subs_deliver(struct das_worker *w, struct das_msg *m)
{
    struct match_state local[32], *stack = local;
    size_t n = 0, cap = sizeof(local) / sizeof(local[0]);
    const char *topic = m->topic;
    size_t tlen = m->topic_len;
    bool dollar = topic[0] == '$';

    if (atomic_load_explicit(&w->nsubs, memory_order_relaxed) == 0) return;
    if (++w->match_epoch == 0) {
        /* the epoch wrapped: reset every session's mark once */
        for (size_t b = 0; b < w->sessions.nbuckets; b++)
            for (struct das_session *s = w->sessions.buckets[b]; s; s = s->hnext)
                s->match_epoch = 0;
        w->match_epoch = 1;
    }
    w->nmatched = 0;
    stack[n++] = (struct match_state){w->subs.root, 0, false};
    while (n > 0) {
        struct match_state cur = stack[--n];
        const struct das_tnode *node = cur.node;
        bool at_root = node == w->subs.root;
        size_t end, next;

        if (node->hash && !(at_root && dollar)) collect(w, node->hash);
        if (cur.ended) {
            collect(w, node);
            continue;
        }
        end = cur.pos;
        while (end < tlen && topic[end] != '/')
            end++;
        next = end + 1; /* past the '/', or tlen + 1 when this was the last level */
        if (n + 2 > cap) {
            size_t ncap = cap * 2;
            struct match_state *ns = osap_malloc(ncap * sizeof(*ns));
            if (!ns) break;
            memcpy(ns, stack, n * sizeof(*ns));
            if (stack != local) osap_free(stack);
            stack = ns;
            cap = ncap;
        }
        const struct das_tnode *c = das_trie_child(&w->subs, node, topic + cur.pos, end - cur.pos);
        if (c) stack[n++] = (struct match_state){c, next, end >= tlen};
        if (node->plus && !(at_root && dollar))
            stack[n++] = (struct match_state){node->plus, next, end >= tlen};
    }
    if (stack != local) osap_free(stack);

    for (size_t i = 0; i < w->nmatched; i++) {
        struct das_session *s = w->matched[i];
        int qos = m->qos < s->match_qos ? m->qos : s->match_qos;
        das_session_deliver(w, s, m, qos, 0);
    }
    w->nmatched = 0;
}
