// The console's thing-model forms (web/js/model.js) in the browser, built from
// a model compiled by osap-modelc (OSAP_MODEL_JSON, the ip_camera template):
// one editor per writable attribute and per operation input, the controls each
// type gets (number ranges, enumerations, checkboxes, nested objects, JSON for
// arrays), the values they produce and the errors they report.

import fs from 'node:fs';
import { step, run, url, assert, assertEqual, unlabelledControls } from './harness.mjs';

const doc = JSON.parse(fs.readFileSync(process.env.OSAP_MODEL_JSON, 'utf8'));

async function value(page, key) {
  return page.evaluate((k) => {
    try {
      return { ok: true, value: window.__editors[k].get() };
    } catch (e) {
      return { ok: false, error: e.message };
    }
  }, key);
}

function ed(page, key) {
  return page.locator('[data-editor="' + key + '"]');
}

step('an editor for every writable attribute and operation', async (page) => {
  await page.goto(url + '/');
  await page.getByRole('heading', { name: 'Sign in to OSAP' }).waitFor();
  const counts = await page.evaluate(async (model) => {
    const m = await import('/js/model.js');
    const root = document.createElement('div');
    root.id = 'model-test';
    document.getElementById('main').appendChild(root);
    window.__editors = {};
    window.__model = m;
    let attrs = 0;
    let ops = 0;
    for (const a of m.modelMembers(model, 'attributes')) {
      if (!m.writable(a.item)) continue;
      const key = a.domain + '/' + a.item.identifier;
      const e = m.valueEditor(a.item.type, a.item.default, key);
      e.element.dataset.editor = key;
      root.appendChild(e.element);
      window.__editors[key] = e;
      attrs++;
    }
    for (const o of m.modelMembers(model, 'operations')) {
      const key = 'op:' + o.domain + '/' + o.item.identifier;
      const e = m.valueEditor(o.item.input || null, o.item.input ? undefined : {}, key);
      const wrap = document.createElement('div');
      wrap.dataset.editor = key;
      wrap.appendChild(e.element);
      root.appendChild(wrap);
      window.__editors[key] = e;
      ops++;
    }
    return { attrs, ops };
  }, doc);
  assert(counts.attrs >= 20, 'writable attributes: ' + counts.attrs);
  assert(counts.ops >= 8, 'operations: ' + counts.ops);
  const bad = await unlabelledControls(page);
  assertEqual(bad, [], 'controls without a label');
});

step('defaults fill the forms and are read back', async (page) => {
  assertEqual(await value(page, 'Stream/MainFrameRate'), { ok: true, value: 25 });
  assertEqual(await value(page, 'Stream/MainCodec'), { ok: true, value: 'h265' });
  assertEqual(await value(page, 'Image/Wdr'), { ok: true, value: false });
});

step('int with a range and unit', async (page) => {
  const input = ed(page, 'Stream/MainFrameRate').getByLabel('Stream/MainFrameRate');
  assertEqual(await input.getAttribute('type'), 'number');
  assertEqual(await input.getAttribute('min'), '1');
  assertEqual(await input.getAttribute('max'), '30');
  assert((await ed(page, 'Stream/MainFrameRate').textContent()).includes('fps'), 'the unit is shown');
  await input.fill('12');
  assertEqual(await value(page, 'Stream/MainFrameRate'), { ok: true, value: 12 });
  await input.fill('2.5');
  const r = await value(page, 'Stream/MainFrameRate');
  assert(!r.ok && /integer/.test(r.error), 'a fraction is refused: ' + JSON.stringify(r));
  await input.fill('');
  assert(!(await value(page, 'Stream/MainFrameRate')).ok, 'an empty number is refused');
});

step('enumerations, booleans, strings', async (page) => {
  await ed(page, 'Stream/MainCodec').getByLabel('Stream/MainCodec').selectOption({ label: 'h264' });
  assertEqual(await value(page, 'Stream/MainCodec'), { ok: true, value: 'h264' });
  await ed(page, 'Image/Wdr').getByLabel('Image/Wdr').check();
  assertEqual(await value(page, 'Image/Wdr'), { ok: true, value: true });
  const name = ed(page, 'DeviceInfo/DeviceName').getByLabel('DeviceInfo/DeviceName');
  assertEqual(await name.getAttribute('maxlength'), '63');
  await name.fill('Gate camera');
  assertEqual(await value(page, 'DeviceInfo/DeviceName'), { ok: true, value: 'Gate camera' });
});

step('objects: required and optional members', async (page) => {
  const set = ed(page, 'op:Ptz/SetPreset');
  assert(await set.locator('fieldset legend').first().textContent() === 'op:Ptz/SetPreset', 'a fieldset');
  let r = await value(page, 'op:Ptz/SetPreset');
  assert(!r.ok && /preset/.test(r.error), 'the required member is required: ' + JSON.stringify(r));
  await set.getByLabel('preset *').fill('3');
  assertEqual(await value(page, 'op:Ptz/SetPreset'), { ok: true, value: { preset: 3 } },
              'optional members left empty are omitted');
  await set.getByLabel('name').fill('door');
  assertEqual(await value(page, 'op:Ptz/SetPreset'), { ok: true, value: { preset: 3, name: 'door' } });

  const move = ed(page, 'op:Ptz/Move');
  await move.getByLabel('direction *').selectOption({ label: 'left' });
  r = await value(page, 'op:Ptz/Move');
  assert(r.ok && r.value.direction === 'left', 'enum member: ' + JSON.stringify(r));

  const reboot = ed(page, 'op:Maintenance/Reboot');
  assertEqual(await value(page, 'op:Maintenance/Reboot'), { ok: true, value: {} });
  await reboot.getByLabel('delay').fill('30');
  assertEqual(await value(page, 'op:Maintenance/Reboot'), { ok: true, value: { delay: 30 } });
  const reset = ed(page, 'op:Maintenance/FactoryReset');
  await reset.getByLabel('keepNetwork').selectOption('false');
  assertEqual(await value(page, 'op:Maintenance/FactoryReset'), { ok: true, value: { keepNetwork: false } });
});

step('arrays and operations without input take JSON', async (page) => {
  const stop = ed(page, 'op:Ptz/Stop');
  assertEqual(await stop.locator('textarea').count(), 1, 'a JSON box');
  assertEqual(await value(page, 'op:Ptz/Stop'), { ok: true, value: {} });
  await stop.locator('textarea').fill('{"x": ');
  const r = await value(page, 'op:Ptz/Stop');
  assert(!r.ok && /not valid JSON/.test(r.error), 'bad JSON is reported: ' + JSON.stringify(r));
  const regions = await page.evaluate(() => Object.keys(window.__editors).find((k) => k.endsWith('/Regions')));
  assert(regions, 'an array attribute');
  await ed(page, regions).locator('textarea').fill('[]');
  assertEqual(await value(page, regions), { ok: true, value: [] });
});

step('model lookups', async (page) => {
  const r = await page.evaluate((model) => {
    const m = window.__model;
    const rate = m.findMember(model, 'attributes', 'Stream', 'MainFrameRate', '0-video');
    const pan = m.findMember(model, 'attributes', 'Ptz', 'PanPosition', '0-video');
    return {
      rate: rate && rate.item.identifier, rateWritable: m.writable(rate.item),
      panWritable: m.writable(pan.item),
      wrongResource: m.findMember(model, 'attributes', 'Stream', 'MainFrameRate', '0-global'),
      text: m.typeText(rate.item.type),
    };
  }, doc);
  assertEqual(r.rate, 'MainFrameRate');
  assertEqual(r.rateWritable, true);
  assertEqual(r.panWritable, false);
  assertEqual(r.wrongResource, null);
  assertEqual(r.text, 'int 1..30 fps');
});

run('model');
