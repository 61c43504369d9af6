// One device: identity and state, attributes (last reported values, set
// forms), operations (input form, the device's reply), live activity (events,
// status and attribute reports as they are committed), pictures (list,
// view, upload).

import { api, seg, describeError, ApiError, LiveStream, blobUrl } from '../api.js';
import {
  h, replace, field, stateBadge, blockedBadge, timeEl, toast, confirmDialog, errorBox,
  jsonCode, jsonText, levelBadge, flash, newId, fmtTime, actionButton,
} from '../ui.js';
import { loadModel, findMember, modelMembers, valueEditor, writable, typeText } from '../model.js';

const ACTIVITY_MAX = 200;

export function deviceView(root, serial, ctx) {
  let disposed = false;
  let device = null;
  let model = null;
  const attrRows = new Map(); // key -> {tr, attr}
  const objectUrls = new Set();

  // ---- skeleton (rendered at once; sections fill in) ----
  const h1 = h('h1', null, serial);
  const badges = h('span', { class: 'badges' });
  const headActions = h('div', { class: 'head-actions' });
  const headMsg = h('div', { 'aria-live': 'polite' });
  const identity = h('section', { class: 'card identity', 'aria-labelledby': 'sec-identity' },
                     h('h2', { id: 'sec-identity' }, 'Identity and state'),
                     h('p', { class: 'muted' }, 'Loading…'));
  const attrsSection = h('section', { class: 'card', 'aria-labelledby': 'sec-attrs' });
  const opsSection = h('section', { class: 'card', 'aria-labelledby': 'sec-ops' });
  const activitySection = h('section', { class: 'card', 'aria-labelledby': 'sec-activity' });
  const picturesSection = h('section', { class: 'card', 'aria-labelledby': 'sec-pictures' });

  replace(root,
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
      h('a', { href: '#/devices' }, 'Devices'), h('span', { 'aria-hidden': 'true' }, ' / '),
      h('span', { 'aria-current': 'page' }, serial)),
    h('div', { class: 'page-head' }, h('div', { class: 'title' }, h1, badges), headActions),
    headMsg,
    h('div', { class: 'device-grid' },
      h('div', { class: 'col' }, identity, attrsSection, opsSection),
      h('div', { class: 'col' }, activitySection, picturesSection)));

  const devPath = '/devices/' + seg(serial);

  // ---- identity and state ----
  function renderHead() {
    document.title = serial + ' · OSAP console';
    h1.textContent = device.name ? device.name : serial;
    if (device.name) h1.appendChild(h('span', { class: 'h1-sub' }, serial));
    replace(badges, stateBadge(device.online), device.blocked ? blockedBadge() : null);
    replace(headActions,
      actionButton(device.blocked ? 'Unblock' : 'Block', toggleBlock),
      actionButton('Delete', remove, { class: 'danger' }),
      actionButton('Refresh', () => loadAll()));
  }

  function renderIdentity() {
    const row = (k, v) => [h('dt', null, k), h('dd', null, v === '' || v === null || v === undefined
      ? h('span', { class: 'muted' }, '–') : v)];
    const editForm = identityEditForm();
    replace(identity,
      h('h2', { id: 'sec-identity' }, 'Identity and state'),
      h('dl', { class: 'facts' },
        row('Serial', h('span', { class: 'mono' }, device.serial)),
        row('State', [stateBadge(device.online), device.blocked ? [' ', blockedBadge()] : null]),
        row('Name', device.name),
        row('Model', device.model),
        row('Device type', device.dev_type),
        row('Firmware', device.firmware),
        row('Authentication', device.auth_mode === 'licence' ? 'Licence' : 'Serial + verification code'),
        row('Registered', device.registered ? 'Yes (the LBS issued a device id)' : 'Not yet'),
        row('Last seen', timeEl(device.last_seen, true)),
        row('Address', device.address ? h('span', { class: 'mono' }, device.address) : ''),
        row('DAS node', device.das_node),
        row('Added', timeEl(device.created_at))),
      editForm);
  }

  function identityEditForm() {
    const name = h('input', { type: 'text', value: device.name || '', maxlength: 127 });
    const mdl = h('input', { type: 'text', value: device.model || '', maxlength: 63 });
    const msg = h('div', { 'aria-live': 'polite' });
    const form = h('form', { class: 'inline-form' },
      field('Name', name), field('Model', mdl), msg,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      replace(msg);
      const change = {};
      if (name.value.trim() !== (device.name || '')) change.name = name.value.trim();
      if (mdl.value.trim() !== (device.model || '')) change.model = mdl.value.trim();
      if (change.name === '' || change.model === '') {
        replace(msg, errorBox('A name or model can be changed but not removed.'));
        return;
      }
      if (!Object.keys(change).length) {
        replace(msg, h('p', { class: 'muted', role: 'status' }, 'Nothing to save.'));
        return;
      }
      try {
        device = await api.patch(devPath, change);
        toast('Device ' + serial + ' saved.', 'success');
        renderHead();
        renderIdentity();
        model = await loadModel(device.thing_model || device.model);
        loadAttributes();
        renderOperations();
      } catch (err) {
        replace(msg, errorBox(describeError(err), 'Cannot save.'));
      }
    });
    return h('details', { class: 'edit' }, h('summary', null, 'Edit name and model'), form);
  }

  async function toggleBlock() {
    const verb = device.blocked ? 'unblock' : 'block';
    try {
      device = await api.post(devPath + '/' + verb);
      toast('Device ' + serial + (device.blocked ? ' blocked: it is disconnected and refused.' : ' unblocked.'),
            'success');
      renderHead();
      renderIdentity();
    } catch (err) {
      toast('Cannot ' + verb + ': ' + describeError(err), 'error');
    }
  }

  async function remove() {
    const ok = await confirmDialog({
      title: 'Delete device ' + serial + '?',
      message: 'Its events, attributes and requests are removed too; it cannot come online ' +
        'until it is added again. Its pictures stay, unlinked.',
      confirm: 'Delete device', danger: true,
    });
    if (!ok) return;
    try {
      await api.del(devPath);
      toast('Device ' + serial + ' deleted.', 'success');
      location.hash = '#/devices';
    } catch (err) {
      toast('Cannot delete: ' + describeError(err), 'error');
    }
  }

  // ---- the outcome of a request to the device ----
  function outcome(box, kind, promise) {
    replace(box, h('p', { class: 'pending' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }),
                   'Waiting for the device…'));
    box.setAttribute('aria-busy', 'true');
    return promise.then((res) => {
      if (res.status === 202) return followRequest(box, kind, res.data);
      showResult(box, kind, res.data);
      return null;
    }, (err) => showError(box, kind, err)).finally(() => box.removeAttribute('aria-busy'));
  }

  function showResult(box, kind, r) {
    const code = r.code;
    const ok = code === 0;
    const title = ok ? 'Done: the device answered code 0.'
      : code === -1 ? 'The device answered without a code (-1).'
        : 'The device answered code ' + code + '.';
    replace(box, h('div', { class: 'outcome ' + (ok ? 'ok' : 'warn'), role: 'status' },
      h('p', null, h('strong', { class: 'result-code', 'data-code': String(code) }, title),
        r.seq !== undefined && r.seq !== null ? h('span', { class: 'muted' }, ' seq ' + r.seq) : null),
      kind === 'operation' ? [h('p', { class: 'label' }, 'Output'),
        h('pre', { class: 'output' }, r.output === undefined ? '(none)' : jsonText(r.output, true))]
        : null));
  }

  function showError(box, kind, err) {
    let title = 'The request failed.';
    let cls = 'error';
    let extra = null;
    if (err instanceof ApiError) {
      switch (err.code) {
      case 'device_offline':
        title = 'The device is offline.';
        cls = 'offline';
        if (err.body && err.body.desired && err.body.desired.stored) {
          extra = 'The desired value is stored (version ' + err.body.desired.version +
            ') and is delivered when the device comes back and queries its shadow.';
        }
        break;
      case 'device_timeout':
        title = 'Timeout: the device did not answer in time.';
        cls = 'timeout';
        break;
      case 'device_disconnected':
        title = 'The device disconnected before it answered.';
        cls = 'offline';
        break;
      case 'device_busy':
        title = 'The device is busy (too many requests in flight); try again.';
        cls = 'timeout';
        break;
      case 'device_blocked':
        title = 'The device is blocked.';
        break;
      default:
        break;
      }
    }
    const norm = (t) => t.toLowerCase().replace(/[.\s]+$/, '');
    const detail = describeError(err);
    const same = norm(title).includes(norm(detail));
    replace(box, h('div', { class: 'outcome ' + cls, role: 'alert' },
      h('p', null, h('strong', { class: 'result-error', 'data-error': err.code || '' }, title)),
      h('p', null, same ? null : detail,
        err.code ? h('span', { class: 'muted mono' }, (same ? '' : ' ') + '[' + err.code + ']') : null),
      extra ? h('p', null, extra) : null));
  }

  async function followRequest(box, kind, acc) {
    const id = acc.request_id;
    replace(box, h('p', { class: 'pending' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }),
                   'Request ' + id + ' accepted; waiting for the device…'));
    for (let i = 0; i < 600 && !disposed; i++) {
      await new Promise((r) => setTimeout(r, 500));
      let r;
      try {
        r = await api.get('/requests/' + id);
      } catch (err) {
        showError(box, kind, err);
        return;
      }
      if (r.status === 'pending') continue;
      if (r.status === 'done') {
        showResult(box, kind, r);
      } else {
        const code = r.status === 'timeout' ? 'device_timeout' : r.status === 'offline' ? 'device_offline' : r.status;
        showError(box, kind, new ApiError(0, code, 'Request ' + id + ': ' + r.status));
      }
      return;
    }
  }

  // ---- attributes ----
  function attrKey(a) {
    return [a.child || 'global', a.resource || '0-global', a.domain, a.identifier].join('|');
  }

  const attrTbody = h('tbody');
  let attrTable = null;
  const attrMsg = h('div', { 'aria-live': 'polite' });
  const desiredEl = h('div');
  attrsSection.append(
    h('h2', { id: 'sec-attrs' }, 'Attributes'),
    h('p', { class: 'muted' }, 'Last reported values; they update live. Set sends the value to the device and shows its answer.'),
    attrMsg,
    h('div', { class: 'table-wrap' }, attrTable = h('table', { class: 'attributes', hidden: true },
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'Attribute'),
        h('th', { scope: 'col' }, 'Value'),
        h('th', { scope: 'col', class: 'hide-sm' }, 'Version'),
        h('th', { scope: 'col' }, 'Reported'),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
      attrTbody)),
    desiredEl,
    setAnyForm());

  function attrName(a) {
    const res = a.resource && a.resource !== '0-global' ? a.resource + ' · ' : '';
    const child = a.child && a.child !== 'global' ? a.child + ' · ' : '';
    return h('span', null, h('span', { class: 'muted' }, child + res),
             h('span', { class: 'mono' }, a.domain + '/' + a.identifier));
  }

  function fillAttrRow(tr, a) {
    const m = model ? findMember(model, 'attributes', a.domain, a.identifier, a.resource) : null;
    const canSet = !model || !m || writable(m.item);
    const setBtn = canSet ? h('button', {
      type: 'button', class: 'small', 'aria-expanded': 'false',
      'aria-label': 'Set ' + a.domain + '/' + a.identifier,
      onclick: () => toggleSetRow(tr, a, m, setBtn),
    }, 'Set…') : h('span', { class: 'muted', title: 'Read-only in the model' }, 'read-only');
    replace(tr,
      h('th', { scope: 'row' }, attrName(a)),
      h('td', { class: 'value' }, jsonCode(a.value, 80)),
      h('td', { class: 'hide-sm' }, a.version === null || a.version === undefined ? '–' : String(a.version)),
      h('td', null, timeEl(a.reported_at, true)),
      h('td', { class: 'row-actions' }, setBtn));
  }

  function toggleSetRow(tr, a, m, btn) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains('set-row')) {
      next.remove();
      btn.setAttribute('aria-expanded', 'false');
      return;
    }
    btn.setAttribute('aria-expanded', 'true');
    const form = setForm({
      domain: a.domain, identifier: a.identifier, resource: a.resource, child: a.child,
      value: a.value, type: m ? m.item.type : null, fixed: true,
    });
    const row = h('tr', { class: 'set-row' }, h('td', { colspan: 5 }, form));
    tr.after(row);
    const first = form.querySelector('input, textarea, select');
    if (first) first.focus();
  }

  /** The timeout and asynchronous controls of a request to the device (row),
   *  and the query they give with the key's resource and child (query()). */
  function requestControls() {
    const timeout = h('input', { type: 'number', min: '0.1', step: 'any', placeholder: 'default' });
    const asyncBox = h('input', { type: 'checkbox' });
    return {
      row: h('div', { class: 'row' },
        field('Timeout (s)', timeout, 'How long to wait for the device.'),
        h('div', { class: 'field checkbox' }, h('label', null, asyncBox, ' Asynchronous'))),
      query: (resource, child) => ({
        resource: resource && resource !== '0-global' ? resource : undefined,
        child: child && child !== 'global' ? child : undefined,
        timeout: timeout.value || undefined,
        async: asyncBox.checked ? '1' : undefined,
      }),
    };
  }

  /** The value of a form's editor as { value }, or null once its error is shown in result. */
  function editorValue(editor, result) {
    try {
      return { value: editor.get() };
    } catch (err) {
      replace(result, errorBox(err.message));
      return null;
    }
  }

  /** A form that sets one attribute; fixed: the key is given. */
  function setForm(o) {
    const domain = h('input', { type: 'text', value: o.domain || '', required: true, maxlength: 31 });
    const ident = h('input', { type: 'text', value: o.identifier || '', required: true, maxlength: 31 });
    const resource = h('input', { type: 'text', value: o.resource || '0-global', maxlength: 40 });
    const child = h('input', { type: 'text', value: o.child || 'global', maxlength: 72 });
    const controls = requestControls();
    let editor = valueEditor(o.type, o.value, o.type ? 'New value' : 'New value (JSON)');
    editor.type = o.type || null;
    const editorSlot = h('div', null, editor.element);
    const result = h('div', { class: 'result', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Set');
    const keyFields = o.fixed ? null : h('div', { class: 'row' },
      field('Domain', domain), field('Identifier', ident),
      field('Resource', resource, '<index>-<category>'), field('Child', child));
    if (!o.fixed) {
      const retype = () => {
        const m = model ? findMember(model, 'attributes', domain.value.trim(), ident.value.trim(), resource.value.trim()) : null;
        const t = m && writable(m.item) ? m.item.type : null;
        if (t === editor.type) return;
        editor = valueEditor(t, undefined, t ? 'New value' : 'New value (JSON)');
        editor.type = t;
        replace(editorSlot, editor.element);
      };
      for (const f of [domain, ident, resource]) f.addEventListener('change', retype);
    }
    const form = h('form', { class: 'set-form', novalidate: true },
      keyFields, editorSlot, controls.row,
      h('div', { class: 'actions' }, submit),
      result);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const got = editorValue(editor, result);
      if (!got) return;
      const value = got.value;
      const d = o.fixed ? o.domain : domain.value.trim();
      const i = o.fixed ? o.identifier : ident.value.trim();
      if (!d || !i) {
        replace(result, errorBox('Domain and identifier are required.'));
        return;
      }
      submit.disabled = true;
      const query = controls.query(o.fixed ? o.resource : resource.value.trim(),
                                   o.fixed ? o.child : child.value.trim());
      await outcome(result, 'attribute', api.put(devPath + '/attributes/' + seg(d) + '/' + seg(i),
                                                 { value }, { query, withStatus: true }));
      submit.disabled = false;
      loadDesired();
    });
    return form;
  }

  function setAnyForm() {
    return h('details', { class: 'set-any' }, h('summary', null, 'Set another attribute'),
             setForm({ fixed: false }));
  }

  async function loadAttributes() {
    try {
      const doc = await api.get(devPath + '/attributes');
      if (disposed) return;
      attrRows.clear();
      const items = doc.items || [];
      replace(attrTbody, items.map((a) => {
        const tr = h('tr', { 'data-attr': attrKey(a) });
        attrRows.set(attrKey(a), { tr, attr: a });
        fillAttrRow(tr, a);
        return tr;
      }));
      attrTable.hidden = items.length === 0;
      replace(attrMsg, items.length ? null : h('p', { class: 'empty' },
        'No attribute reported yet. Values appear here when the device reports them.'));
      renderDesired(doc.desired || []);
    } catch (err) {
      if (!disposed) replace(attrMsg, errorBox(describeError(err), 'Cannot read the attributes.'));
    }
  }

  async function loadDesired() {
    try {
      const doc = await api.get(devPath + '/attributes');
      if (!disposed) renderDesired(doc.desired || []);
    } catch (e) {
      /* shown by the next full load */
    }
  }

  function renderDesired(list) {
    if (!list.length) {
      replace(desiredEl);
      return;
    }
    replace(desiredEl, h('div', { class: 'desired' },
      h('h3', null, 'Desired values waiting for the device'),
      h('ul', null, list.map((d) => h('li', null,
        h('span', { class: 'mono' }, d.domain + '/' + d.identifier), ' = ', jsonCode(d.value, 60),
        h('span', { class: 'muted' }, ' (version ' + d.version + ', ', timeEl(d.updated_at, true), ')'))))));
  }

  function liveAttribute(a) {
    const key = attrKey(a);
    const row = attrRows.get(key);
    if (row) {
      row.attr = Object.assign({}, row.attr, a);
      const next = row.tr.nextElementSibling;
      const open = next && next.classList.contains('set-row');
      if (!open) fillAttrRow(row.tr, row.attr);
      else {
        row.tr.querySelector('.value').replaceWith(h('td', { class: 'value' }, jsonCode(a.value, 80)));
      }
      flash(row.tr);
    } else {
      const tr = h('tr', { 'data-attr': key });
      attrRows.set(key, { tr, attr: a });
      fillAttrRow(tr, a);
      attrTbody.appendChild(tr);
      attrTable.hidden = false;
      replace(attrMsg);
      flash(tr);
    }
  }

  // ---- operations ----
  function renderOperations() {
    const domain = h('input', { type: 'text', required: true, maxlength: 31, autocomplete: 'off' });
    const ident = h('input', { type: 'text', required: true, maxlength: 31, autocomplete: 'off' });
    const resource = h('input', { type: 'text', value: '0-global', maxlength: 40 });
    const child = h('input', { type: 'text', value: 'global', maxlength: 72 });
    const controls = requestControls();
    const result = h('div', { class: 'result', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Invoke');
    let editor = valueEditor(null, {}, 'Input (JSON)');
    const editorSlot = h('div', null, editor.element);
    const ops = modelMembers(model, 'operations');
    let picker = null;
    if (ops.length) {
      const sel = h('select', null, h('option', { value: '' }, 'Choose an operation…'),
        ops.map((o, i) => h('option', { value: String(i) },
          o.domain + '/' + o.item.identifier + (o.category !== 'global' ? ' (' + o.category + ')' : ''))));
      sel.addEventListener('change', () => {
        const o = ops[Number(sel.value)];
        if (!o) return;
        domain.value = o.domain;
        ident.value = o.item.identifier;
        resource.value = (o.indexes[0] || 0) + '-' + o.category;
        editor = o.item.input ? valueEditor(o.item.input, undefined, 'Input') : valueEditor(null, {}, 'Input (JSON)');
        replace(editorSlot, editor.element,
                o.item.output ? h('p', { class: 'hint' }, 'Output: ' + typeText(o.item.output)) : null);
      });
      picker = field('From the model', sel);
    }
    const form = h('form', { class: 'op-form', novalidate: true },
      picker,
      h('div', { class: 'row' },
        field('Domain', domain), field('Identifier', ident),
        field('Resource', resource, '<index>-<category>'), field('Child', child)),
      editorSlot, controls.row,
      h('div', { class: 'actions' }, submit),
      result);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const got = editorValue(editor, result);
      if (!got) return;
      const input = got.value;
      if (!domain.value.trim() || !ident.value.trim()) {
        replace(result, errorBox('Domain and identifier are required.'));
        (domain.value.trim() ? ident : domain).focus();
        return;
      }
      submit.disabled = true;
      const query = controls.query(resource.value.trim(), child.value.trim());
      await outcome(result, 'operation',
                    api.post(devPath + '/operations/' + seg(domain.value.trim()) + '/' +
                             seg(ident.value.trim()), { input }, { query, withStatus: true }));
      submit.disabled = false;
    });
    replace(opsSection,
      h('h2', { id: 'sec-ops' }, 'Operations'),
      h('p', { class: 'muted' }, 'Invoke an operation on the device and see its reply (code and output).'),
      form);
  }

  // ---- live activity ----
  const activity = h('ol', { class: 'activity', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const activityMsg = h('div');
  const streamState = h('span', { class: 'stream-state muted' });
  activitySection.append(
    h('div', { class: 'section-head' }, h('h2', { id: 'sec-activity' }, 'Live activity'), streamState),
    h('p', { class: 'muted' }, 'Events, online/offline changes and attribute reports of this device, newest first.'),
    activityMsg, activity);

  function addActivity(item, live) {
    activity.insertBefore(item, activity.firstChild);
    while (activity.children.length > ACTIVITY_MAX) activity.removeChild(activity.lastChild);
    if (live) flash(item);
    replace(activityMsg);
  }

  function eventItem(e, live) {
    return h('li', { class: 'act event' + (live ? ' is-live' : ''), 'data-event-id': String(e.id) },
      h('div', { class: 'act-head' },
        h('span', { class: 'kind' }, 'Event'),
        h('span', { class: 'mono' }, e.domain + '/' + e.identifier), ' ',
        levelBadge(e.level),
        e.resource && e.resource !== '0-global' ? h('span', { class: 'muted' }, ' ' + e.resource) : null,
        h('span', { class: 'when' }, timeEl(e.received_at))),
      h('pre', { class: 'payload' }, jsonText(e.payload, true)));
  }

  function statusItem(s) {
    return h('li', { class: 'act status ' + (s.online ? 'online' : 'offline') },
      h('div', { class: 'act-head' },
        h('span', { class: 'kind' }, s.online ? 'Online' : 'Offline'),
        s.online ? ['Came online', s.address ? [' from ', h('span', { class: 'mono' }, s.address)] : null]
          : 'Went offline',
        h('span', { class: 'when' }, timeEl(s.time))));
  }

  function attrItem(a) {
    return h('li', { class: 'act attribute' },
      h('div', { class: 'act-head' },
        h('span', { class: 'kind' }, 'Report'),
        h('span', { class: 'mono' }, a.domain + '/' + a.identifier), ' = ', jsonCode(a.value, 60),
        h('span', { class: 'when' }, timeEl(a.reported_at))));
  }

  async function loadRecentEvents() {
    try {
      const page = await api.get(devPath + '/events', { limit: 20 });
      if (disposed) return;
      replace(activity);
      const items = (page.items || []).slice().reverse();
      for (const e of items) addActivity(eventItem(e, false), false);
      if (!items.length) replace(activityMsg, h('p', { class: 'empty' }, 'No events yet. New ones appear here live.'));
    } catch (err) {
      if (!disposed) replace(activityMsg, errorBox(describeError(err), 'Cannot read the events.'));
    }
  }

  const stream = new LiveStream({ serial }, {
    event(e) {
      if (activity.querySelector('[data-event-id="' + e.id + '"]')) return;
      addActivity(eventItem(e, true), true);
    },
    status(s) {
      addActivity(statusItem(s), true);
      if (device) {
        device = Object.assign({}, device, {
          online: !!s.online,
          address: s.address || device.address,
          last_seen: s.time || device.last_seen,
          firmware: s.firmware || device.firmware,
          dev_type: s.model || device.dev_type,
          das_node: s.das_node || device.das_node,
        });
        renderHead();
        renderIdentity();
        flash(badges);
      }
    },
    attribute(a) {
      liveAttribute(a);
      addActivity(attrItem(a), true);
    },
    state(s, err) {
      ctx.setLive(s);
      streamState.textContent = s === 'live' ? '● live' : s === 'error' && err ? describeError(err) : s;
      streamState.className = 'stream-state ' + s;
    },
  });

  // ---- pictures ----
  const grid = h('ul', { class: 'pictures' });
  const picMsg = h('div', { 'aria-live': 'polite' });
  const fileInput = h('input', { type: 'file', accept: 'image/*', required: true });
  const eventInput = h('input', { type: 'number', min: '1', step: '1', placeholder: 'none' });
  const uploadMsg = h('div', { 'aria-live': 'polite' });
  const uploadBtn = h('button', { type: 'submit', class: 'primary' }, 'Upload');
  const uploadForm = h('form', { class: 'upload', novalidate: true },
    field('Picture', fileInput, 'JPEG, PNG, GIF, WebP or BMP.'),
    field('Event id (optional)', eventInput, 'Link the picture to one of this device\'s events.'),
    h('div', { class: 'actions' }, uploadBtn), uploadMsg);
  uploadForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    replace(uploadMsg);
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      replace(uploadMsg, errorBox('Choose a picture file first.'));
      fileInput.focus();
      return;
    }
    const fd = new FormData();
    fd.append('file', file, file.name);
    fd.append('serial', serial);
    if (eventInput.value) fd.append('event', eventInput.value);
    uploadBtn.disabled = true;
    try {
      const res = await api.post('/pictures', undefined, { body: fd, withStatus: true });
      replace(uploadMsg, h('p', { class: 'ok', role: 'status' },
        res.status === 201 ? 'Picture stored.' : 'This picture was stored already.',
        ' ', h('span', { class: 'mono' }, res.data.sha256.slice(0, 12) + '…')));
      uploadForm.reset();
      loadPictures();
    } catch (err) {
      replace(uploadMsg, errorBox(describeError(err), 'Cannot upload.'));
    } finally {
      uploadBtn.disabled = false;
    }
  });
  picturesSection.append(
    h('h2', { id: 'sec-pictures' }, 'Pictures'),
    picMsg, grid,
    h('details', { class: 'upload-panel' }, h('summary', null, 'Upload a picture'), uploadForm));

  async function loadPictures() {
    try {
      const page = await api.get('/pictures', { serial, limit: 24 });
      if (disposed) return;
      for (const u of objectUrls) URL.revokeObjectURL(u);
      objectUrls.clear();
      const items = page.items || [];
      replace(grid, items.map(pictureItem));
      replace(picMsg, items.length ? null : h('p', { class: 'empty' }, 'No pictures linked to this device.'));
    } catch (err) {
      if (!disposed) replace(picMsg, errorBox(describeError(err), 'Cannot list the pictures.'));
    }
  }

  function pictureItem(p) {
    const img = h('img', { alt: 'Picture ' + p.sha256.slice(0, 12) + (p.event_id ? ' of event ' + p.event_id : ''),
                           loading: 'lazy', 'data-sha256': p.sha256 });
    blobUrl('/pictures/' + p.sha256).then((u) => {
      if (disposed) {
        URL.revokeObjectURL(u);
        return;
      }
      objectUrls.add(u);
      img.src = u;
    }, () => img.replaceWith(h('span', { class: 'muted broken' }, 'cannot load')));
    const open = h('button', { type: 'button', class: 'thumb', 'aria-label': 'View picture ' + p.sha256.slice(0, 12),
                               onclick: () => viewPicture(p, img) }, img);
    const del = h('button', { type: 'button', class: 'small danger-text',
                              'aria-label': 'Delete picture ' + p.sha256.slice(0, 12),
                              onclick: () => deletePicture(p) }, 'Delete');
    return h('li', { class: 'picture' }, open,
      h('div', { class: 'pic-meta' },
        h('span', null, p.content_type.replace('image/', '').toUpperCase() + ' · ' + fmtSize(p.size)),
        p.event_id ? h('span', null, 'event ' + p.event_id) : null,
        h('span', { class: 'muted' }, timeEl(p.created_at, true)), del));
  }

  function viewPicture(p, img) {
    const titleId = newId('pic');
    const close = h('button', { type: 'button', class: 'primary', onclick: () => dlg.close() }, 'Close');
    const dlg = h('dialog', { class: 'viewer', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, 'Picture'),
      h('img', { src: img.src, alt: img.alt, class: 'full' }),
      h('dl', { class: 'facts' },
        h('dt', null, 'SHA-256'), h('dd', { class: 'mono' }, p.sha256),
        h('dt', null, 'Type'), h('dd', null, p.content_type),
        h('dt', null, 'Size'), h('dd', null, fmtSize(p.size)),
        h('dt', null, 'Stored'), h('dd', null, fmtTime(p.created_at)),
        p.event_id ? [h('dt', null, 'Event'), h('dd', null, String(p.event_id))] : null),
      h('div', { class: 'actions' },
        h('a', { href: img.src, download: p.sha256 + '.' + p.content_type.replace('image/', ''),
                 class: 'button' }, 'Download'),
        close));
    dlg.addEventListener('close', () => dlg.remove());
    document.body.appendChild(dlg);
    dlg.showModal();
    close.focus();
  }

  async function deletePicture(p) {
    const ok = await confirmDialog({
      title: 'Delete this picture?', message: 'Picture ' + p.sha256.slice(0, 12) + '… is removed for every device and event that links it.',
      confirm: 'Delete picture', danger: true,
    });
    if (!ok) return;
    try {
      await api.del('/pictures/' + p.sha256);
      toast('Picture deleted.', 'success');
      loadPictures();
    } catch (err) {
      toast('Cannot delete the picture: ' + describeError(err), 'error');
    }
  }

  // ---- loading ----
  async function loadAll() {
    try {
      device = await api.get(devPath);
    } catch (err) {
      if (disposed) return;
      replace(headMsg, errorBox(err instanceof ApiError && err.code === 'device_not_found'
        ? 'There is no device ' + serial + '.' : describeError(err), 'Cannot open the device.'));
      replace(identity, h('h2', { id: 'sec-identity' }, 'Identity and state'),
              h('p', null, h('a', { href: '#/devices' }, 'Back to the device list')));
      return false;
    }
    if (disposed) return false;
    replace(headMsg);
    renderHead();
    renderIdentity();
    model = await loadModel(device.thing_model || device.model);
    if (disposed) return false;
    renderOperations();
    await Promise.all([loadAttributes(), loadRecentEvents(), loadPictures()]);
    return true;
  }

  renderOperations();
  loadAll().then((ok) => {
    if (ok && !disposed) stream.start();
  });

  return () => {
    disposed = true;
    stream.stop();
    for (const u of objectUrls) URL.revokeObjectURL(u);
  };
}

function fmtSize(n) {
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1024 / 1024).toFixed(1) + ' MiB';
}
