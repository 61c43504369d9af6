// Thing models (docs/MODEL.md, the compiled document NAME.json) in the
// console: value editors built from a member's type, and the lookup of a
// device's model when the API publishes models. Without a model every value is
// edited as JSON.

import { api } from './api.js';
import { h, field, newId, parseJsonInput, jsonText } from './ui.js';

let modelsRoute = undefined; // undefined = not looked up; null = none

/** The API route that serves a compiled model ("/models/{name}"), from the
 *  OpenAPI document; null when the API has none. */
async function findModelsRoute() {
  if (modelsRoute !== undefined) return modelsRoute;
  modelsRoute = null;
  try {
    const doc = await api.get('/openapi.json');
    for (const [path, ops] of Object.entries((doc && doc.paths) || {})) {
      const m = /^\/api\/v1(\/models\/)\{[^}]+\}$/.exec(path);
      if (m && ops.get) {
        modelsRoute = '/models/';
        break;
      }
    }
  } catch (e) {
    modelsRoute = null;
  }
  return modelsRoute;
}

const cache = new Map();

/** The compiled model named @p name, or null (no model, or not published). */
export async function loadModel(name) {
  if (!name) return null;
  if (cache.has(name)) return cache.get(name);
  const route = await findModelsRoute();
  let doc = null;
  if (route) {
    try {
      doc = await api.get(route + encodeURIComponent(name));
      if (!doc || doc.osapModel !== 1) doc = null;
    } catch (e) {
      doc = null;
    }
  }
  cache.set(name, doc);
  return doc;
}

/** Every member of a kind ('attributes', 'operations', 'events') in a model:
 *  [{category, indexes, domain, item}]. */
export function modelMembers(doc, kind) {
  const out = [];
  if (!doc) return out;
  for (const r of doc.resources || []) {
    for (const d of r.domains || []) {
      for (const item of d[kind] || []) {
        out.push({ category: r.category, indexes: r.indexes || [0], domain: d.identifier, item });
      }
    }
  }
  return out;
}

/** The model entry of attribute/operation @p identifier in @p domain for the
 *  resource "<index>-<category>" (in any resource when not given), or null. */
export function findMember(doc, kind, domain, identifier, resource) {
  const r = resource ? /^(\d+)-(.+)$/.exec(resource) : null;
  if (resource && !r) return null;
  for (const m of modelMembers(doc, kind)) {
    if (m.domain !== domain || m.item.identifier !== identifier) continue;
    if (r && (m.category !== r[2] || !m.indexes.includes(Number(r[1])))) continue;
    return m;
  }
  return null;
}

/** Is an attribute writable (access w or rw)? */
export function writable(item) {
  return item && (item.access === 'w' || item.access === 'rw');
}

/** A short description of a type ("int 0..100 fps"). */
export function typeText(t) {
  if (!t) return 'any JSON value';
  let s = t.typeName ? t.typeName + ' (' + t.kind + ')' : t.kind;
  if (t.kind === 'int' || t.kind === 'number') {
    if (t.min !== undefined || t.max !== undefined) {
      s += ' ' + (t.min !== undefined ? t.min : '…') + '..' + (t.max !== undefined ? t.max : '…');
    }
    if (t.step !== undefined) s += ' step ' + t.step;
    if (t.unit) s += ' ' + t.unit;
  } else if (t.kind === 'string' && t.maxLength !== undefined) {
    s += ' ' + (t.minLength || 0) + '..' + t.maxLength + ' bytes';
  } else if (t.kind === 'array' && t.items) {
    s += ' of ' + typeText(t.items);
  }
  if (t.enum) s += ' one of ' + t.enum.map((e) => JSON.stringify(e.value)).join(', ');
  return s;
}

/**
 * An editor for one value. With a model type it is a form (checkbox, number,
 * text, select, nested fieldsets); otherwise (or for arrays) a JSON box.
 * Returns {element, get() (throws Error with a readable message), set(v)}.
 */
export function valueEditor(type, initial, label) {
  if (!type || type.kind === 'array') return jsonEditor(initial, label || 'Value (JSON)', type);
  return typedEditor(type, initial, label || 'Value', true);
}

function jsonEditor(initial, label, type) {
  const ta = h('textarea', {
    class: 'json-input', rows: 3, spellcheck: 'false', autocomplete: 'off',
    placeholder: 'e.g. 42, true, "text", {"key": 1}',
  });
  if (initial !== undefined) ta.value = jsonText(initial, typeof initial === 'object');
  const el = field(label, ta, type ? typeText(type) : 'Any JSON value; strings in double quotes.');
  return {
    element: el,
    input: ta,
    get: () => parseJsonInput(ta.value, label),
    set: (v) => { ta.value = jsonText(v, typeof v === 'object'); },
  };
}

function typedEditor(type, initial, label, required) {
  const hint = (type.unit ? type.unit + ' · ' : '') + typeText(type);
  if (type.enum) {
    const sel = h('select', null,
                  required ? null : h('option', { value: '' }, '(not set)'),
                  type.enum.map((e, i) => h('option', { value: String(i) },
                                             String(e.value) + (e.doc ? ' — ' + e.doc : ''))));
    const set = (v) => {
      const i = type.enum.findIndex((e) => e.value === v);
      sel.value = i >= 0 ? String(i) : (required ? '0' : '');
    };
    set(initial);
    return {
      element: field(label, sel, hint), input: sel,
      get: () => (sel.value === '' ? undefined : type.enum[Number(sel.value)].value),
      set,
    };
  }
  switch (type.kind) {
  case 'bool': {
    if (required) {
      const cb = h('input', { type: 'checkbox', checked: initial === true });
      const el = h('div', { class: 'field checkbox' }, h('label', null, cb, ' ' + label));
      return { element: el, input: cb, get: () => cb.checked, set: (v) => { cb.checked = v === true; } };
    }
    const sel = h('select', null, h('option', { value: '' }, '(not set)'),
                  h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false'));
    sel.value = initial === true ? 'true' : initial === false ? 'false' : '';
    return {
      element: field(label, sel, hint), input: sel,
      get: () => (sel.value === '' ? undefined : sel.value === 'true'),
      set: (v) => { sel.value = v === true ? 'true' : v === false ? 'false' : ''; },
    };
  }
  case 'int':
  case 'number': {
    const inp = h('input', {
      type: 'number', inputmode: type.kind === 'int' ? 'numeric' : 'decimal',
      min: type.min, max: type.max,
      step: type.step !== undefined ? type.step : type.kind === 'int' ? 1 : 'any',
    });
    if (typeof initial === 'number') inp.value = String(initial);
    return {
      element: field(label, inp, hint), input: inp,
      get: () => {
        if (inp.value.trim() === '') {
          if (required) throw new Error(label + ': a number is required');
          return undefined;
        }
        const n = Number(inp.value);
        if (!isFinite(n)) throw new Error(label + ': not a number');
        if (type.kind === 'int' && !Number.isInteger(n)) throw new Error(label + ': an integer is required');
        return n;
      },
      set: (v) => { inp.value = typeof v === 'number' ? String(v) : ''; },
    };
  }
  case 'string': {
    const inp = h('input', { type: 'text', maxlength: type.maxLength, autocomplete: 'off' });
    if (typeof initial === 'string') inp.value = initial;
    return {
      element: field(label, inp, hint), input: inp,
      get: () => (inp.value === '' && !required ? undefined : inp.value),
      set: (v) => { inp.value = typeof v === 'string' ? v : ''; },
    };
  }
  case 'object': {
    const members = (type.members || []).map((m) => {
      const init = initial && typeof initial === 'object' ? initial[m.name] : undefined;
      const ed = m.type && m.type.kind === 'array'
        ? jsonEditor(init, m.name + (m.required ? ' *' : '') + ' (JSON)', m.type)
        : m.type && m.type.kind === 'object'
          ? typedEditor(m.type, init, m.name, !!m.required)
          : typedEditor(m.type || { kind: 'string' }, init, m.name + (m.required ? ' *' : ''),
                        !!m.required);
      return { m, ed };
    });
    const legendId = newId('lg');
    const el = h('fieldset', { class: 'object', 'aria-labelledby': legendId },
                 h('legend', { id: legendId }, label),
                 members.length ? members.map((x) => x.ed.element)
                   : h('p', { class: 'muted' }, 'No members: sends {}.'));
    return {
      element: el,
      input: members.length ? members[0].ed.input : null,
      get: () => {
        const out = {};
        for (const { m, ed } of members) {
          let v;
          if (m.type && m.type.kind === 'array') {
            const ta = ed.input;
            if (ta.value.trim() === '') {
              if (m.required) throw new Error(m.name + ' is required');
              continue;
            }
            v = ed.get();
          } else {
            v = ed.get();
          }
          if (v === undefined) {
            if (m.required) throw new Error(m.name + ' is required');
            continue;
          }
          out[m.name] = v;
        }
        return out;
      },
      set: (v) => {
        for (const { m, ed } of members) ed.set(v && typeof v === 'object' ? v[m.name] : undefined);
      },
    };
  }
  default:
    return jsonEditor(initial, label + ' (JSON)', type);
  }
}
