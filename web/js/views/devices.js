// The device list: filters, pages, live online state (status records of the
// event stream update the rows in place), adding, blocking and removing
// devices.

import { api, seg, describeError, LiveStream } from '../api.js';
import {
  h, replace, field, stateBadge, blockedBadge, timeEl, toast, confirmDialog, errorBox,
  hashQuery, hashWith, flash, newId,
} from '../ui.js';

const PAGE_SIZES = [25, 50, 100, 200];

export function devicesView(root, ctx) {
  const q = hashQuery();
  const state = {
    search: q.q || '',
    online: q.online || '',
    blocked: q.blocked || '',
    model: q.model || '',
    limit: /^\d+$/.test(q.limit || '') && q.limit >= 1 && q.limit <= 1000 ? Number(q.limit) : 50,
    cursors: [null], // cursor of each page visited; the last is the current page
    rows: new Map(), // serial -> {tr, device}
    counts: null,
  };
  let disposed = false;

  // ---- layout ----
  const statsEl = h('div', { class: 'stats', 'aria-label': 'Fleet summary' });
  const listMsg = h('div', { class: 'list-message', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const captionId = newId('cap');
  const table = h('table', { class: 'devices', 'aria-describedby': captionId },
    h('caption', { id: captionId, class: 'sr-only' },
      'Devices. The state column updates live.'),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, 'Serial'),
      h('th', { scope: 'col' }, 'Name'),
      h('th', { scope: 'col' }, 'Model'),
      h('th', { scope: 'col' }, 'State'),
      h('th', { scope: 'col', class: 'hide-sm' }, 'Last seen'),
      h('th', { scope: 'col', class: 'hide-sm' }, 'Address'),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    tbody);
  const pageInfo = h('span', { class: 'page-info' });
  const prevBtn = h('button', { type: 'button', onclick: () => go(-1) }, '← Previous');
  const nextBtn = h('button', { type: 'button', onclick: () => go(1) }, 'Next →');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of devices' },
                  prevBtn, pageInfo, nextBtn);

  // Filters
  const fSearch = h('input', { type: 'search', value: state.search, placeholder: 'Serial or name' });
  const fOnline = h('select', null,
    h('option', { value: '' }, 'Any state'),
    h('option', { value: 'true' }, 'Online'),
    h('option', { value: 'false' }, 'Offline'));
  fOnline.value = state.online;
  const fBlocked = h('select', null,
    h('option', { value: '' }, 'Blocked or not'),
    h('option', { value: 'true' }, 'Blocked'),
    h('option', { value: 'false' }, 'Not blocked'));
  fBlocked.value = state.blocked;
  const fModel = h('input', { type: 'text', value: state.model, placeholder: 'Any model' });
  const sizes = PAGE_SIZES.includes(state.limit) ? PAGE_SIZES
    : PAGE_SIZES.concat([state.limit]).sort((a, b) => a - b);
  const fLimit = h('select', null, sizes.map((n) => h('option', { value: String(n) }, String(n))));
  fLimit.value = String(state.limit);
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter devices' },
    field('Search', fSearch),
    field('State', fOnline),
    field('Blocked', fBlocked),
    field('Model', fModel),
    field('Per page', fLimit),
    h('div', { class: 'field actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Apply'),
      h('button', { type: 'button', onclick: resetFilters }, 'Reset')));
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    applyFilters();
  });
  fOnline.addEventListener('change', applyFilters);
  fBlocked.addEventListener('change', applyFilters);
  fLimit.addEventListener('change', applyFilters);

  const addPanel = addDeviceForm(() => load());

  replace(root,
    h('div', { class: 'page-head' },
      h('h1', null, 'Devices'),
      statsEl),
    addPanel,
    filters,
    listMsg,
    h('div', { class: 'table-wrap' }, table),
    pager);

  // ---- data ----
  function applyFilters() {
    state.search = fSearch.value.trim();
    state.online = fOnline.value;
    state.blocked = fBlocked.value;
    state.model = fModel.value.trim();
    state.limit = Number(fLimit.value);
    state.cursors = [null];
    history.replaceState(null, '', hashWith('/devices', {
      q: state.search, online: state.online, blocked: state.blocked, model: state.model,
      limit: state.limit !== 50 ? state.limit : '',
    }));
    load();
  }

  function resetFilters() {
    fSearch.value = '';
    fOnline.value = '';
    fBlocked.value = '';
    fModel.value = '';
    applyFilters();
  }

  function go(dir) {
    if (dir > 0 && state.next) state.cursors.push(state.next);
    else if (dir < 0 && state.cursors.length > 1) state.cursors.pop();
    else return;
    load();
  }

  async function loadStats() {
    try {
      const s = await api.get('/stats');
      if (disposed) return;
      state.counts = s.devices || null;
      renderStats();
    } catch (e) {
      /* the summary is optional */
    }
  }

  function renderStats() {
    const c = state.counts;
    if (!c) return;
    replace(statsEl,
      stat('Devices', c.total, ''),
      stat('Online', c.online, 'online'),
      stat('Blocked', c.blocked, 'blocked'));
  }

  function stat(label, value, kind) {
    return h('div', { class: 'stat ' + kind },
             h('span', { class: 'stat-value', 'data-stat': kind || 'total' }, String(value ?? '–')),
             h('span', { class: 'stat-label' }, label));
  }

  async function load() {
    const cursor = state.cursors[state.cursors.length - 1];
    replace(listMsg, h('p', { class: 'muted' }, 'Loading devices…'));
    table.setAttribute('aria-busy', 'true');
    try {
      const page = await api.get('/devices', {
        q: state.search, online: state.online, blocked: state.blocked, model: state.model,
        limit: state.limit, cursor,
      });
      if (disposed) return;
      state.next = page.next_cursor || null;
      renderRows(page.items || []);
      replace(listMsg);
      if (!page.items || page.items.length === 0) {
        replace(listMsg, h('p', { class: 'empty' },
          state.cursors.length > 1 ? 'No more devices.' :
            (state.search || state.online || state.blocked || state.model)
              ? 'No device matches these filters.'
              : 'No devices yet. Add one with the form above, or with osapctl device add.'));
      }
    } catch (err) {
      if (disposed) return;
      replace(tbody);
      replace(listMsg, errorBox(describeError(err), 'Cannot list the devices.'));
    } finally {
      table.removeAttribute('aria-busy');
    }
    prevBtn.disabled = state.cursors.length <= 1;
    nextBtn.disabled = !state.next;
    pageInfo.textContent = 'Page ' + state.cursors.length;
    loadStats();
  }

  function renderRows(items) {
    state.rows.clear();
    replace(tbody, items.map((d) => {
      const tr = h('tr', { 'data-serial': d.serial });
      state.rows.set(d.serial, { tr, device: d });
      fillRow(tr, d);
      return tr;
    }));
  }

  function fillRow(tr, d) {
    const link = h('a', { href: '#/devices/' + seg(d.serial) }, d.serial);
    const blockBtn = h('button', {
      type: 'button', class: 'small',
      'aria-label': (d.blocked ? 'Unblock ' : 'Block ') + d.serial,
      onclick: () => toggleBlock(d, blockBtn),
    }, d.blocked ? 'Unblock' : 'Block');
    const delBtn = h('button', {
      type: 'button', class: 'small danger-text', 'aria-label': 'Delete ' + d.serial,
      onclick: () => remove(d),
    }, 'Delete');
    replace(tr,
      h('td', { class: 'serial' }, link),
      h('td', null, d.name || h('span', { class: 'muted' }, '–')),
      h('td', null, d.model || h('span', { class: 'muted' }, '–')),
      h('td', { class: 'state' }, stateBadge(d.online), d.blocked ? [' ', blockedBadge()] : null),
      h('td', { class: 'hide-sm last-seen' }, timeEl(d.last_seen, true)),
      h('td', { class: 'hide-sm mono' }, d.address || h('span', { class: 'muted' }, '–')),
      h('td', { class: 'row-actions' }, blockBtn, delBtn));
  }

  async function toggleBlock(d, btn) {
    const verb = d.blocked ? 'unblock' : 'block';
    btn.disabled = true;
    try {
      const dev = await api.post('/devices/' + seg(d.serial) + '/' + verb);
      toast('Device ' + d.serial + (dev.blocked ? ' blocked.' : ' unblocked.'), 'success');
      const row = state.rows.get(d.serial);
      if (row) {
        row.device = dev;
        fillRow(row.tr, dev);
        flash(row.tr);
      }
      loadStats();
    } catch (err) {
      toast('Cannot ' + verb + ' ' + d.serial + ': ' + describeError(err), 'error');
      btn.disabled = false;
    }
  }

  async function remove(d) {
    const ok = await confirmDialog({
      title: 'Delete device ' + d.serial + '?',
      message: 'The device, its events, attributes and requests are removed; it can no longer ' +
        'come online until it is added again. Its pictures stay, unlinked.',
      confirm: 'Delete device', danger: true,
    });
    if (!ok) return;
    try {
      await api.del('/devices/' + seg(d.serial));
      toast('Device ' + d.serial + ' deleted.', 'success');
      load();
    } catch (err) {
      toast('Cannot delete ' + d.serial + ': ' + describeError(err), 'error');
    }
  }

  // ---- live online state ----
  const stream = new LiveStream({ types: 'status' }, {
    status(s) {
      const row = state.rows.get(s.serial);
      if (row) {
        const was = row.device.online;
        row.device = Object.assign({}, row.device, {
          online: !!s.online,
          address: s.address || row.device.address,
          last_seen: s.time || row.device.last_seen,
          firmware: s.firmware || row.device.firmware,
        });
        fillRow(row.tr, row.device);
        flash(row.tr.querySelector('.state'));
        if (state.counts && was !== !!s.online) {
          state.counts.online += s.online ? 1 : -1;
          renderStats();
        }
      } else {
        loadStats();
      }
    },
    state: (s) => ctx.setLive(s),
  });

  load();
  stream.start();
  const ticker = setInterval(() => {
    for (const { tr, device } of state.rows.values()) {
      const cell = tr.querySelector('.last-seen');
      if (cell) replace(cell, timeEl(device.last_seen, true));
    }
  }, 30000);

  return () => {
    disposed = true;
    stream.stop();
    clearInterval(ticker);
  };
}

/** The "Add a device" panel (a disclosure, closed by default). */
function addDeviceForm(onAdded) {
  const serial = h('input', { type: 'text', required: true, autocomplete: 'off', spellcheck: 'false',
                              maxlength: 72 });
  const modeCode = h('input', { type: 'radio', name: 'auth', value: 'code', checked: true });
  const modeLic = h('input', { type: 'radio', name: 'auth', value: 'licence' });
  const secret = h('input', { type: 'text', required: true, autocomplete: 'off', spellcheck: 'false' });
  const secretLabel = h('label', null, 'Verification code');
  const model = h('input', { type: 'text', maxlength: 63, autocomplete: 'off' });
  const name = h('input', { type: 'text', maxlength: 127, autocomplete: 'off' });
  const msg = h('div', { class: 'form-message', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Add device');
  secretLabel.htmlFor = secret.id = newId('secret');
  const updateMode = () => {
    secretLabel.textContent = modeLic.checked ? 'Licence' : 'Verification code';
    serial.placeholder = modeLic.checked ? 'productKey:deviceName' : 'e.g. Q12345678';
  };
  modeCode.addEventListener('change', updateMode);
  modeLic.addEventListener('change', updateMode);
  updateMode();

  const form = h('form', { class: 'add-device', novalidate: true },
    field('Serial', serial),
    h('fieldset', { class: 'radios' },
      h('legend', null, 'Authentication'),
      h('label', null, modeCode, ' Serial + verification code'),
      h('label', null, modeLic, ' Licence')),
    h('div', { class: 'field' }, secretLabel, secret),
    field('Model (optional)', model, 'Thing model name, checked against the platform\'s models.'),
    field('Name (optional)', name),
    msg,
    h('div', { class: 'actions' }, submit));
  const details = h('details', { class: 'card add-panel' },
                    h('summary', null, 'Add a device'), form);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    replace(msg);
    if (!serial.value.trim() || !secret.value.trim()) {
      replace(msg, errorBox('Serial and ' + secretLabel.textContent.toLowerCase() + ' are required.'));
      (serial.value.trim() ? secret : serial).focus();
      return;
    }
    const body = { serial: serial.value.trim() };
    body[modeLic.checked ? 'licence' : 'code'] = secret.value.trim();
    if (model.value.trim()) body.model = model.value.trim();
    if (name.value.trim()) body.name = name.value.trim();
    submit.disabled = true;
    try {
      const dev = await api.post('/devices', body);
      toast('Device ' + dev.serial + ' added.', 'success');
      form.reset();
      updateMode();
      details.open = false;
      onAdded(dev);
    } catch (err) {
      replace(msg, errorBox(describeError(err), 'Cannot add the device.'));
      const bad = { serial, code: secret, licence: secret, model, name }[err.field];
      if (bad) bad.focus();
    } finally {
      submit.disabled = false;
    }
  });
  return details;
}
