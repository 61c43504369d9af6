// The event view: stored events queried with filters and pages, and a live
// tail of new events (the event stream) on top.

import { api, seg, describeError, LiveStream } from '../api.js';
import {
  h, replace, field, timeEl, errorBox, jsonText, levelBadge, hashQuery, hashWith, flash, newId,
} from '../ui.js';

const PAGE_SIZES = [25, 50, 100, 200];
const LIVE_MAX = 500;

/** datetime-local value -> RFC 3339 (UTC), '' stays ''. */
function toIso(local) {
  if (!local) return '';
  const d = new Date(local);
  return isNaN(d.getTime()) ? '' : d.toISOString();
}

/** RFC 3339 -> datetime-local value. */
function toLocal(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' +
    pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
}

export function eventsView(root, ctx) {
  const q = hashQuery();
  const state = {
    serial: q.serial || '', domain: q.domain || '', identifier: q.identifier || '',
    level: q.level || '', since: q.since || '', until: q.until || '',
    limit: /^\d+$/.test(q.limit || '') && q.limit >= 1 && q.limit <= 1000 ? Number(q.limit) : 50,
    cursors: [null], next: null,
  };
  let disposed = false;
  let stream = null;
  document.title = 'Events · OSAP console';

  const fSerial = h('input', { type: 'text', value: state.serial, autocomplete: 'off', spellcheck: 'false' });
  const fDomain = h('input', { type: 'text', value: state.domain, autocomplete: 'off', maxlength: 31 });
  const fIdent = h('input', { type: 'text', value: state.identifier, autocomplete: 'off', maxlength: 31 });
  const fLevel = h('input', { type: 'number', min: '0', step: '1', value: state.level });
  const fSince = h('input', { type: 'datetime-local', step: '1', value: toLocal(state.since) });
  const fUntil = h('input', { type: 'datetime-local', step: '1', value: toLocal(state.until) });
  const sizes = PAGE_SIZES.includes(state.limit) ? PAGE_SIZES
    : PAGE_SIZES.concat([state.limit]).sort((a, b) => a - b);
  const fLimit = h('select', null, sizes.map((n) => h('option', { value: String(n) }, String(n))));
  fLimit.value = String(state.limit);
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter events' },
    field('Device serial', fSerial),
    field('Domain', fDomain),
    field('Identifier', fIdent),
    field('Level', fLevel),
    field('Received since', fSince),
    field('Received before', fUntil),
    field('Per page', fLimit),
    h('div', { class: 'field actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Search'),
      h('button', { type: 'button', onclick: reset }, 'Reset')));
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    apply();
  });

  const liveToggle = h('button', { type: 'button', 'aria-pressed': 'false', onclick: toggleLive },
                       'Start live tail');
  const liveState = h('span', { class: 'stream-state muted' });
  const liveBody = h('tbody');
  const liveTable = h('table', { class: 'events live-events', hidden: true },
    h('caption', null, 'New events (live)'), head(), liveBody);

  const tbody = h('tbody');
  const listMsg = h('div', { 'aria-live': 'polite' });
  const capId = newId('cap');
  const table = h('table', { class: 'events' },
    h('caption', { id: capId }, 'Stored events, newest first'), head(), tbody);
  const pageInfo = h('span', { class: 'page-info' });
  const prevBtn = h('button', { type: 'button', onclick: () => go(-1) }, '← Newer');
  const nextBtn = h('button', { type: 'button', onclick: () => go(1) }, 'Older →');

  replace(root,
    h('div', { class: 'page-head' }, h('h1', null, 'Events'),
      h('div', { class: 'head-actions' }, liveState, liveToggle)),
    filters,
    h('div', { class: 'table-wrap' }, liveTable),
    listMsg,
    h('div', { class: 'table-wrap' }, table),
    h('nav', { class: 'pager', 'aria-label': 'Pages of events' }, prevBtn, pageInfo, nextBtn));

  function head() {
    return h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, 'Id'),
      h('th', { scope: 'col' }, 'Received'),
      h('th', { scope: 'col' }, 'Device'),
      h('th', { scope: 'col' }, 'Event'),
      h('th', { scope: 'col' }, 'Level'),
      h('th', { scope: 'col' }, 'Payload')));
  }

  function row(e) {
    const payload = jsonText(e.payload);
    const short = payload.length > 90 ? payload.slice(0, 89) + '…' : payload;
    return h('tr', { 'data-event-id': String(e.id) },
      h('td', { class: 'mono' }, String(e.id)),
      h('td', null, timeEl(e.received_at)),
      h('td', null, h('a', { href: '#/devices/' + seg(e.serial) }, e.serial)),
      h('td', null,
        h('span', { class: 'mono' }, e.domain + '/' + e.identifier),
        e.resource && e.resource !== '0-global' ? h('span', { class: 'muted' }, ' ' + e.resource) : null,
        e.child && e.child !== 'global' ? h('span', { class: 'muted' }, ' ' + e.child) : null),
      h('td', null, levelBadge(e.level)),
      h('td', { class: 'payload-cell' }, payload.length > 90
        ? h('details', null, h('summary', null, h('code', { class: 'json' }, short)),
            h('pre', { class: 'payload' }, jsonText(e.payload, true)))
        : h('code', { class: 'json' }, short)));
  }

  function apply() {
    state.serial = fSerial.value.trim();
    state.domain = fDomain.value.trim();
    state.identifier = fIdent.value.trim();
    state.level = fLevel.value.trim();
    state.since = toIso(fSince.value);
    state.until = toIso(fUntil.value);
    state.limit = Number(fLimit.value);
    state.cursors = [null];
    history.replaceState(null, '', hashWith('/events', {
      serial: state.serial, domain: state.domain, identifier: state.identifier,
      level: state.level, since: state.since, until: state.until,
      limit: state.limit !== 50 ? state.limit : '',
    }));
    load();
    if (stream) {
      stopLive();
      startLive();
    }
  }

  function reset() {
    for (const f of [fSerial, fDomain, fIdent, fLevel, fSince, fUntil]) f.value = '';
    apply();
  }

  function go(dir) {
    if (dir > 0 && state.next) state.cursors.push(state.next);
    else if (dir < 0 && state.cursors.length > 1) state.cursors.pop();
    else return;
    load();
  }

  async function load() {
    replace(listMsg, h('p', { class: 'muted' }, 'Loading events…'));
    table.setAttribute('aria-busy', 'true');
    try {
      const page = await api.get('/events', {
        serial: state.serial, domain: state.domain, identifier: state.identifier,
        level: state.level, since: state.since, until: state.until, limit: state.limit,
        cursor: state.cursors[state.cursors.length - 1],
      });
      if (disposed) return;
      state.next = page.next_cursor || null;
      replace(tbody, (page.items || []).map(row));
      replace(listMsg, page.items && page.items.length ? null
        : h('p', { class: 'empty' }, 'No event matches these filters.'));
    } catch (err) {
      if (disposed) return;
      replace(tbody);
      state.next = null;
      replace(listMsg, errorBox(describeError(err), 'Cannot query the events.'));
    } finally {
      table.removeAttribute('aria-busy');
    }
    prevBtn.disabled = state.cursors.length <= 1;
    nextBtn.disabled = !state.next;
    pageInfo.textContent = 'Page ' + state.cursors.length;
  }

  function matches(e) {
    if (state.domain && e.domain !== state.domain) return false;
    if (state.identifier && e.identifier !== state.identifier) return false;
    if (state.level && String(e.level) !== state.level) return false;
    return true;
  }

  function startLive() {
    liveTable.hidden = false;
    liveToggle.textContent = 'Stop live tail';
    liveToggle.setAttribute('aria-pressed', 'true');
    stream = new LiveStream({ types: 'event', serial: state.serial || undefined }, {
      event(e) {
        if (!matches(e)) return;
        if (liveBody.querySelector('[data-event-id="' + e.id + '"]')) return;
        const tr = row(e);
        liveBody.insertBefore(tr, liveBody.firstChild);
        while (liveBody.children.length > LIVE_MAX) liveBody.removeChild(liveBody.lastChild);
        flash(tr);
      },
      state(s, err) {
        ctx.setLive(s);
        liveState.textContent = s === 'live' ? '● live' : s === 'error' && err ? describeError(err) : s;
        liveState.className = 'stream-state ' + s;
      },
    });
    stream.start();
  }

  function stopLive() {
    if (stream) stream.stop();
    stream = null;
    liveToggle.textContent = 'Start live tail';
    liveToggle.setAttribute('aria-pressed', 'false');
    liveState.textContent = '';
    ctx.setLive(null);
  }

  function toggleLive() {
    if (stream) stopLive();
    else startLive();
  }

  load();
  if (q.live === '1') startLive();

  return () => {
    disposed = true;
    if (stream) stream.stop();
  };
}
