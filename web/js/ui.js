// Small DOM helpers shared by the views: element building, formatting,
// messages, confirmation dialogs, badges.

/**
 * h('button', {class: 'primary', onclick: fn}, 'Save') builds an element.
 * Attributes: class, text, html is NOT supported (everything is text), on*
 * handlers, dataset via data-*, boolean attributes as true/false, style.
 * Children: strings, nodes, arrays, null/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2), v);
      } else if (k === 'class') {
        el.className = v;
      } else if (k === 'text') {
        el.textContent = v;
      } else if (k === 'value') {
        el.value = v;
      } else if (k === 'checked' || k === 'selected' || k === 'disabled') {
        el[k] = !!v;
      } else if (v === true) {
        el.setAttribute(k, '');
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Remove every child of @p el and append @p children. */
export function replace(el, ...children) {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
  return el;
}

let uid = 0;
/** A unique id for label/input pairs. */
export function newId(prefix) {
  uid += 1;
  return (prefix || 'f') + '-' + uid;
}

/** A labelled form field: {label, input (an element), hint}. */
export function field(label, input, hint) {
  if (!input.id) input.id = newId('in');
  const hintEl = hint ? h('span', { class: 'hint', id: input.id + '-hint' }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hintEl);
}

/** "2026-11-29T05:09:35.123Z" -> local date and time; '' for null. */
export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
    pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
}

/** "3 min ago" style text for an ISO time. */
export function fmtAgo(iso) {
  if (!iso) return 'never';
  const t = new Date(iso).getTime();
  if (isNaN(t)) return String(iso);
  const s = Math.round((Date.now() - t) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ago';
  return Math.floor(s / 86400) + ' d ago';
}

/** A <time> element showing relative time, the exact time as its title. */
export function timeEl(iso, relative) {
  if (!iso) return h('span', { class: 'muted' }, relative ? 'never' : '–');
  return h('time', { datetime: iso, title: fmtTime(iso) + ' (' + iso + ')' },
           relative ? fmtAgo(iso) : fmtTime(iso));
}

/** Compact JSON text of a value. */
export function jsonText(v, pretty) {
  if (v === undefined) return '';
  try {
    return pretty ? JSON.stringify(v, null, 2) : JSON.stringify(v);
  } catch (e) {
    return String(v);
  }
}

/** A <code> with compact JSON, cut at @p max characters (full text as title). */
export function jsonCode(v, max) {
  const text = jsonText(v);
  const cut = max && text.length > max ? text.slice(0, max - 1) + '…' : text;
  return h('code', { class: 'json', title: cut !== text ? text : null }, cut);
}

/** The online/offline badge. */
export function stateBadge(online) {
  return h('span', { class: 'badge ' + (online ? 'online' : 'offline') },
           h('span', { class: 'dot', 'aria-hidden': 'true' }), online ? 'Online' : 'Offline');
}

export function blockedBadge() {
  return h('span', { class: 'badge blocked' }, 'Blocked');
}

/** Level of an event as a badge (0 = none given). */
export function levelBadge(level) {
  if (!level) return h('span', { class: 'muted' }, '–');
  return h('span', { class: 'badge level level-' + Math.min(level, 3) }, String(level));
}

/** An alert box for an error (role=alert, so screen readers announce it). */
export function errorBox(text, title) {
  return h('div', { class: 'alert error', role: 'alert' },
           title ? h('strong', null, title + ' ') : null, text);
}

/** Messages in the corner (aria-live polite). */
export function toast(text, kind) {
  const region = document.getElementById('toasts');
  if (!region) return;
  const el = h('div', { class: 'toast ' + (kind || 'info') }, text);
  region.appendChild(el);
  setTimeout(() => {
    el.classList.add('leaving');
    setTimeout(() => el.remove(), 400);
  }, kind === 'error' ? 8000 : 4000);
}

/**
 * A modal confirmation (native <dialog>: focus is trapped, Escape cancels).
 * Resolves true when confirmed.
 */
export function confirmDialog({ title, message, confirm, danger }) {
  return new Promise((resolve) => {
    const titleId = newId('dlg');
    const ok = h('button', { type: 'submit', class: danger ? 'danger' : 'primary',
                             value: 'ok' }, confirm || 'OK');
    const cancel = h('button', { type: 'submit', value: 'cancel', formnovalidate: true },
                     'Cancel');
    const dlg = h('dialog', { class: 'confirm', 'aria-labelledby': titleId },
                  h('form', { method: 'dialog' },
                    h('h2', { id: titleId }, title),
                    h('p', null, message),
                    h('div', { class: 'actions' }, cancel, ok)));
    document.body.appendChild(dlg);
    dlg.addEventListener('close', () => {
      resolve(dlg.returnValue === 'ok');
      dlg.remove();
    });
    dlg.showModal();
    cancel.focus();
  });
}

/** A button that shows a busy state while @p fn runs. */
export function actionButton(label, fn, attrs) {
  const b = h('button', Object.assign({ type: 'button' }, attrs || {}), label);
  b.addEventListener('click', async () => {
    if (b.disabled) return;
    b.disabled = true;
    b.setAttribute('aria-busy', 'true');
    try {
      await fn(b);
    } finally {
      b.disabled = false;
      b.removeAttribute('aria-busy');
    }
  });
  return b;
}

/** Parse the hash query ("#/devices?online=true") into an object. */
export function hashQuery() {
  const i = location.hash.indexOf('?');
  const out = {};
  if (i < 0) return out;
  for (const [k, v] of new URLSearchParams(location.hash.slice(i + 1))) out[k] = v;
  return out;
}

/** "#/path?query" with empty values dropped. */
export function hashWith(path, query) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') p.append(k, String(v));
  }
  const qs = p.toString();
  return '#' + path + (qs ? '?' + qs : '');
}

/** Briefly highlight an element that changed live. */
export function flash(el) {
  if (!el) return;
  el.classList.remove('flash');
  void el.offsetWidth; // restart the animation
  el.classList.add('flash');
}

/** Parse JSON typed by the operator; throws Error with a readable message. */
export function parseJsonInput(text, what) {
  const t = text.trim();
  if (t === '') throw new Error(what + ' is empty: type a JSON value (e.g. 42, true, "text", {"a":1})');
  try {
    return JSON.parse(t);
  } catch (e) {
    throw new Error(what + ' is not valid JSON: ' + e.message +
                    '. Strings need double quotes, e.g. "text".');
  }
}
