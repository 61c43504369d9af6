/* Routing a published message: the retained store, the subscribers of this worker,
 * then the other workers whose subscriptions may match, in batches. A worker's
 * hints (a count of subscriptions per bucket of first topic level) say whether it
 * may: a worker whose subscriptions cannot match never sees the message. */
#include "das/das_internal.h"

void das_route(struct das_worker *w, struct das_msg *m)
{
    struct das *das = w->das;
    bool dollar = m->topic[0] == '$';

    if (m->retain) das_retain_store(das, m);
    das_subs_deliver(w, m);
    for (uint32_t t = 0; t < das->nworkers; t++) {
        struct das_worker *o = das->workers[t];
        if (t == w->index) continue;
        if (atomic_load_explicit(&o->nsubs, memory_order_relaxed) == 0) continue;
        if (atomic_load_explicit(&o->hints[m->hint], memory_order_relaxed) == 0 &&
            (dollar ||
             atomic_load_explicit(&o->hints[DAS_HINT_WILDCARD], memory_order_relaxed) == 0))
            continue;
        das_forward(w, t, m);
    }
}
