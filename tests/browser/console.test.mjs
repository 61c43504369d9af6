// The web console end to end, against a live osapd (lbs, das, api) with a
// device online (tests/integration/api_device.c, driven by the host test):
// sign-in, the device list with live online state, adding, blocking and
// deleting a device, the device page (attribute set, operation, live events,
// pictures), an offline device, the event view with its live tail, sign-out.

import {
  step, run, host, url, token, assert, assertEqual, waitIn, unlabelledControls, log,
} from './harness.mjs';

const ONLINE = process.env.OSAP_CONSOLE_ONLINE;   // a device that is online
const OFFLINE = process.env.OSAP_CONSOLE_OFFLINE; // provisioned, never online
const PICTURE = process.env.OSAP_CONSOLE_PICTURE; // a PNG file
const CAMERA = process.env.OSAP_CONSOLE_CAMERA;   // online, thing model ip_camera

function row(page, serial) {
  return page.locator('tr[data-serial="' + serial + '"]');
}

async function checkLabels(page, where) {
  const bad = await unlabelledControls(page);
  assert(bad.length === 0, 'controls without an accessible name on ' + where + ': ' + bad.join(' | '));
}

step('sign-in refuses a bad token', async (page) => {
  await page.goto(url + '/');
  await page.getByRole('heading', { name: 'Sign in to OSAP' }).waitFor();
  await checkLabels(page, 'the sign-in page');
  await page.getByLabel('API token').fill('osap_not-a-valid-token-at-all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'refused this token' }).waitFor();
  const stored = await page.evaluate(() => sessionStorage.getItem('osap.token'));
  assertEqual(stored, null, 'a refused token is not kept');
});

step('sign-in with the token shows the device list', async (page) => {
  await page.getByLabel('API token').fill(token);
  await page.getByLabel('API token').press('Enter'); // the keyboard submits the form
  await page.getByRole('heading', { name: 'Devices', level: 1 }).waitFor();
  assertEqual(await page.evaluate(() => sessionStorage.getItem('osap.token')), token,
              'the token is kept in sessionStorage');
  await row(page, ONLINE).waitFor();
  await row(page, ONLINE).locator('.badge.online').waitFor();
  await row(page, OFFLINE).locator('.badge.offline').waitFor();
  assertEqual(await page.locator('[data-stat="total"]').textContent(), '3', 'device count');
  await page.locator('#live[data-state="live"]').waitFor(); // the status stream is open
  await checkLabels(page, 'the device list');
});

step('a device going offline and online updates the list live', async (page) => {
  await page.evaluate(() => { window.__noReload = true; });
  await host('device.stop');
  await row(page, ONLINE).locator('.badge.offline').waitFor();
  await host('device.start');
  await row(page, ONLINE).locator('.badge.online').waitFor();
  assert(await page.evaluate(() => window.__noReload === true), 'the page was not reloaded');
  assertEqual(await page.locator('[data-stat="online"]').textContent(), '2', 'online count');
});

step('filters: offline devices only', async (page) => {
  await page.getByLabel('State').selectOption('false');
  await waitIn(page, (s) => !document.querySelector('tr[data-serial="' + s + '"]'), ONLINE,
               'the online device to leave the filtered list');
  await row(page, OFFLINE).waitFor();
  assert((await page.evaluate(() => location.hash)).includes('online=false'), 'the filter is in the URL');
  await page.getByRole('button', { name: 'Reset' }).click();
  await row(page, ONLINE).waitFor();
});

step('pages of devices', async (page) => {
  await page.goto(url + '/#/devices?limit=2');
  const serials = () => Array.from(document.querySelectorAll('table.devices tbody tr'))
    .map((r) => r.dataset.serial);
  await page.getByText('Page 1').waitFor();
  await waitIn(page, () => document.querySelectorAll('table.devices tbody tr').length === 2, null,
               'two devices on the first page');
  const first = await page.evaluate(serials);
  assert(await page.getByRole('button', { name: '← Previous' }).isDisabled(), 'no previous page');
  await page.getByRole('button', { name: 'Next →' }).click();
  await page.getByText('Page 2').waitFor();
  await waitIn(page, (f) => {
    const r = Array.from(document.querySelectorAll('table.devices tbody tr')).map((x) => x.dataset.serial);
    return r.length === 1 && !f.includes(r[0]);
  }, first, 'the third device on the second page');
  const second = await page.evaluate(serials);
  assertEqual(first.concat(second), [CAMERA, ONLINE, OFFLINE].sort(), 'every device once, in order');
  assert(await page.getByRole('button', { name: 'Next →' }).isDisabled(), 'the last page');
  await page.getByRole('button', { name: '← Previous' }).click();
  await page.getByText('Page 1').waitFor();
  await waitIn(page, (f) => JSON.stringify(Array.from(document.querySelectorAll('table.devices tbody tr'))
    .map((x) => x.dataset.serial)) === JSON.stringify(f), first, 'the first page again');
  await page.goto(url + '/#/devices');
  await row(page, OFFLINE).waitFor();
});

step('add, block, unblock and delete a device', async (page) => {
  await page.getByText('Add a device').click();
  const form = page.locator('form.add-device');
  await form.getByLabel('Serial', { exact: true }).fill('CONSOLE9');
  await form.getByRole('button', { name: 'Add device' }).click();
  await form.getByRole('alert').filter({ hasText: 'required' }).waitFor(); // no code given
  await form.getByLabel('Verification code', { exact: true }).fill('ABCDEF');
  await form.getByLabel('Name (optional)').fill('Lab bench');
  await form.getByRole('button', { name: 'Add device' }).click();
  await row(page, 'CONSOLE9').waitFor();
  assert((await row(page, 'CONSOLE9').textContent()).includes('Lab bench'), 'the name is listed');
  await page.locator('.toast').filter({ hasText: 'CONSOLE9 added' }).waitFor();

  // the same serial again: the API's error is shown next to the form
  await page.getByText('Add a device').click();
  await form.getByLabel('Serial', { exact: true }).fill('CONSOLE9');
  await form.getByLabel('Verification code', { exact: true }).fill('ABCDEF');
  await form.getByRole('button', { name: 'Add device' }).click();
  await form.getByRole('alert').filter({ hasText: 'exists already' }).waitFor();
  await page.getByText('Add a device').click();

  await page.getByRole('button', { name: 'Block CONSOLE9' }).click();
  await row(page, 'CONSOLE9').locator('.badge.blocked').waitFor();
  await page.getByRole('button', { name: 'Unblock CONSOLE9' }).click();
  await waitIn(page, () => !document.querySelector('tr[data-serial="CONSOLE9"] .badge.blocked'),
               null, 'the blocked badge to go');

  await page.getByRole('button', { name: 'Delete CONSOLE9' }).click();
  const dlg = page.getByRole('dialog');
  await dlg.waitFor();
  await dlg.getByRole('button', { name: 'Cancel' }).click(); // nothing happens
  assert(await row(page, 'CONSOLE9').count() === 1, 'cancel keeps the device');
  await page.getByRole('button', { name: 'Delete CONSOLE9' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete device' }).click();
  await waitIn(page, () => !document.querySelector('tr[data-serial="CONSOLE9"]'), null,
               'the deleted device to leave the list');
  const r = await host('api.get', { path: '/api/v1/devices/CONSOLE9' });
  assertEqual(r.status, 404, 'the device is gone from the platform');
});

step('the device page shows identity and state', async (page) => {
  await page.getByRole('link', { name: ONLINE, exact: true }).click();
  await page.locator('section[aria-labelledby="sec-identity"] dl.facts').waitFor();
  const facts = await page.locator('section[aria-labelledby="sec-identity"] dl.facts').textContent();
  assert(facts.includes(ONLINE), 'the serial is shown');
  const dev = (await host('api.get', { path: '/api/v1/devices/' + ONLINE })).body;
  assert(dev.model && facts.includes(dev.model), 'the model is shown');
  assert(dev.firmware && facts.includes(dev.firmware), 'the firmware is shown');
  assert(facts.includes('127.0.0.1'), 'the address is shown');
  await page.locator('.page-head .badge.online').waitFor();
  await page.locator('section[aria-labelledby="sec-activity"] .stream-state.live').waitFor();
  await checkLabels(page, 'the device page');
});

step('rename the device', async (page) => {
  const identity = page.locator('section[aria-labelledby="sec-identity"]');
  await identity.getByText('Edit name and model').click();
  await identity.getByLabel('Name').fill('Lobby camera');
  await identity.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { level: 1, name: /Lobby camera/ }).waitFor();
  const r = await host('api.get', { path: '/api/v1/devices/' + ONLINE });
  assertEqual(r.body.name, 'Lobby camera', 'the platform has the new name');
});

step('set an attribute and see the device\'s code', async (page) => {
  const attrs = page.locator('section[aria-labelledby="sec-attrs"]');
  await attrs.getByText('Set another attribute').click();
  const form = attrs.locator('details.set-any form');
  await form.getByLabel('Domain').fill('Light');
  await form.getByLabel('Identifier').fill('Brightness');
  await form.getByLabel('New value (JSON)').fill('not json');
  await form.getByRole('button', { name: 'Set' }).click();
  await form.getByRole('alert').filter({ hasText: 'not valid JSON' }).waitFor();
  await form.getByLabel('New value (JSON)').fill('70');
  await form.getByRole('button', { name: 'Set' }).click();
  await form.locator('.outcome.ok .result-code[data-code="0"]').waitFor();
  const req = await host('device.request', { domain: 'Light', identifier: 'Brightness' });
  assertEqual(JSON.parse(req.json), 70, 'the device received the value');

  // a report from the device appears in the table without reloading
  await host('device.attr', { domain: 'Light', identifier: 'Brightness', value: 70 });
  const tr = attrs.locator('tr[data-attr="global|0-global|Light|Brightness"]');
  await tr.waitFor();
  assertEqual((await tr.locator('td.value').textContent()).trim(), '70', 'reported value');
  // set it from its row
  await tr.getByRole('button', { name: 'Set Light/Brightness' }).click();
  const rowForm = attrs.locator('tr.set-row form');
  await rowForm.getByLabel('New value (JSON)').fill('55');
  await rowForm.getByRole('button', { name: 'Set' }).click();
  await rowForm.locator('.result-code[data-code="0"]').waitFor();
  const req2 = await host('device.request', { domain: 'Light', identifier: 'Brightness' });
  assertEqual(JSON.parse(req2.json), 55, 'the row form sent its value');
});

step('invoke an operation and see its output', async (page) => {
  const ops = page.locator('section[aria-labelledby="sec-ops"]');
  await ops.getByLabel('Domain').fill('Ptz');
  await ops.getByLabel('Identifier').fill('GotoPreset');
  await ops.getByLabel('Input (JSON)').fill('{"preset": 4}');
  await ops.getByRole('button', { name: 'Invoke' }).click();
  await ops.locator('.outcome.ok .result-code[data-code="0"]').waitFor();
  const out = JSON.parse(await ops.locator('pre.output').textContent());
  assertEqual(out, { echo: { preset: 4 } }, 'the device\'s output');
  // asynchronously: accepted, then followed to the outcome
  await ops.getByLabel('Asynchronous').check();
  await ops.getByRole('button', { name: 'Invoke' }).click();
  await ops.locator('.outcome.ok .result-code[data-code="0"]').waitFor();
  await ops.getByLabel('Asynchronous').uncheck();
});

step('a device that does not answer: the timeout is shown', async (page) => {
  await host('device.reply', { mode: 'hang' });
  const ops = page.locator('section[aria-labelledby="sec-ops"]');
  await ops.getByLabel('Identifier').fill('Stop');
  await ops.getByLabel('Timeout (s)').fill('1');
  await ops.getByRole('button', { name: 'Invoke' }).click();
  const box = ops.locator('.outcome.timeout');
  await box.waitFor();
  assert((await box.textContent()).includes('did not answer in time'), 'timeout message');
  assertEqual(await box.locator('[data-error]').getAttribute('data-error'), 'device_timeout',
              'the API code');
  await host('device.reply', { mode: 'code:3' });
  await ops.getByRole('button', { name: 'Invoke' }).click();
  await ops.locator('.outcome.warn .result-code[data-code="3"]').waitFor();
  await host('device.reply', { mode: 'echo' });
  await ops.getByLabel('Timeout (s)').fill('');
});

step('a live event appears on the device page', async (page) => {
  const id = await host('device.event', { domain: 'Alarm', identifier: 'Motion', body: { zone: 7 } });
  log('event raised', id);
  const item = page.locator('section[aria-labelledby="sec-activity"] li.act.event.is-live')
    .filter({ hasText: 'Alarm/Motion' }).filter({ hasText: '"zone": 7' });
  await item.first().waitFor();
});

step('upload a picture and view it', async (page) => {
  const pics = page.locator('section[aria-labelledby="sec-pictures"]');
  await pics.getByText('No pictures linked').waitFor();
  await pics.getByText('Upload a picture').click();
  await pics.getByLabel('Picture', { exact: true }).setInputFiles(PICTURE);
  await pics.getByRole('button', { name: 'Upload' }).click();
  await pics.getByRole('status').filter({ hasText: 'Picture stored' }).waitFor();
  const img = pics.locator('ul.pictures img');
  await img.waitFor();
  await waitIn(page, () => {
    const i = document.querySelector('ul.pictures img');
    return i && i.complete && i.naturalWidth > 0;
  }, null, 'the thumbnail to load (fetched with the bearer token)');
  assertEqual(await page.evaluate(() => document.querySelector('ul.pictures img').naturalWidth), 4,
              'the picture\'s width');
  await pics.locator('button.thumb').click();
  const viewer = page.getByRole('dialog', { name: 'Picture' });
  await viewer.waitFor();
  await viewer.locator('img.full').waitFor();
  await viewer.getByRole('button', { name: 'Close' }).click();
  await viewer.waitFor({ state: 'detached' });
  const listed = await host('api.get', { path: '/api/v1/pictures?serial=' + ONLINE });
  assertEqual(listed.body.items.length, 1, 'the platform has the picture, linked to the device');
});

step('forms built from the device\'s thing model', async (page) => {
  await page.goto(url + '/#/devices/' + CAMERA);
  await page.locator('.page-head .badge.online').waitFor();
  const ops = page.locator('section[aria-labelledby="sec-ops"]');
  // the model's operations, each with an input form of its own
  const picker = ops.getByLabel('From the model');
  await picker.waitFor();
  await picker.selectOption({ label: 'Ptz/GotoPreset (video)' });
  assertEqual(await ops.getByLabel('Resource').inputValue(), '0-video', 'the resource');
  const preset = ops.getByLabel('preset *');
  assertEqual(await preset.getAttribute('type'), 'number');
  assertEqual(await preset.getAttribute('max'), '256');
  await ops.getByRole('button', { name: 'Invoke' }).click();
  await ops.getByRole('alert').filter({ hasText: 'preset' }).waitFor(); // required, empty
  await preset.fill('4');
  await ops.getByRole('button', { name: 'Invoke' }).click();
  await ops.locator('.outcome.ok .result-code[data-code="0"]').waitFor();
  assertEqual(JSON.parse(await ops.locator('pre.output').textContent()), { echo: { preset: 4 } },
              'the typed input reached the device');

  // a typed attribute: out of the model's range, the platform's check answers
  const attrs = page.locator('section[aria-labelledby="sec-attrs"]');
  await attrs.getByText('Set another attribute').click();
  const form = attrs.locator('details.set-any form');
  await form.getByLabel('Domain').fill('Image');
  await form.getByLabel('Identifier').fill('Brightness');
  await form.getByLabel('Resource').fill('0-video');
  await form.getByLabel('Resource').dispatchEvent('change');
  const value = form.getByLabel('New value', { exact: true });
  assertEqual(await value.getAttribute('type'), 'number', 'a number field from the model');
  await value.fill('150');
  await form.getByRole('button', { name: 'Set' }).click();
  const err = form.locator('.outcome.error [data-error="model_validation"]');
  await err.waitFor();
  assert((await form.locator('.outcome.error').textContent()).includes('value'), 'the field is named');
  await value.fill('60');
  await form.getByRole('button', { name: 'Set' }).click();
  await form.locator('.outcome.ok .result-code[data-code="0"]').waitFor();

  // reported attributes: writable ones get a typed set form, read-only ones none
  await host('device.attr', { device: 'camera', domain: 'Image', identifier: 'DayNightMode', value: 'auto' });
  await host('device.attr', { device: 'camera', domain: 'DeviceInfo', identifier: 'Uptime', value: 42 });
  const mode = attrs.locator('tr[data-attr="global|0-global|Image|DayNightMode"]');
  const uptime = attrs.locator('tr[data-attr="global|0-global|DeviceInfo|Uptime"]');
  await uptime.waitFor();
  await mode.waitFor();
  assert(await uptime.getByText('read-only').isVisible(), 'Uptime is read-only in the model');
});

step('an offline device: the operation says so clearly', async (page) => {
  await page.goto(url + '/#/devices/' + OFFLINE);
  await page.locator('.page-head .badge.offline').waitFor();
  const ops = page.locator('section[aria-labelledby="sec-ops"]');
  await ops.getByLabel('Domain').fill('Ptz');
  await ops.getByLabel('Identifier').fill('Stop');
  await ops.getByRole('button', { name: 'Invoke' }).click();
  const box = ops.locator('.outcome.offline');
  await box.waitFor();
  assert((await box.textContent()).includes('The device is offline.'), 'offline message');
  assertEqual(await box.locator('[data-error]').getAttribute('data-error'), 'device_offline',
              'the API code');
  // a set is kept as the desired value
  const attrs = page.locator('section[aria-labelledby="sec-attrs"]');
  await attrs.getByText('Set another attribute').click();
  const form = attrs.locator('details.set-any form');
  await form.getByLabel('Domain').fill('Light');
  await form.getByLabel('Identifier').fill('Level');
  await form.getByLabel('New value (JSON)').fill('{"on": true}');
  await form.getByRole('button', { name: 'Set' }).click();
  await form.locator('.outcome.offline').filter({ hasText: 'desired value is stored' }).waitFor();
  await attrs.locator('.desired').filter({ hasText: 'Light/Level' }).waitFor();
});

step('the event view: query, filters, pages and live tail', async (page) => {
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
  const table = page.locator('table.events:not(.live-events)');
  await table.locator('tbody tr').filter({ hasText: 'Alarm/Motion' }).first().waitFor();
  await checkLabels(page, 'the event view');

  await page.getByLabel('Identifier').fill('Nothing');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('No event matches these filters.').waitFor();
  await page.getByLabel('Identifier').fill('Motion');
  await page.getByLabel('Device serial').fill(ONLINE);
  await page.getByRole('button', { name: 'Search' }).click();
  await table.locator('tbody tr').filter({ hasText: 'Alarm/Motion' }).first().waitFor();

  // two more events, pages of one
  await host('device.event', { domain: 'Alarm', identifier: 'Motion', body: { zone: 8 } });
  await host('device.event', { domain: 'Alarm', identifier: 'Motion', body: { zone: 9 } });
  await page.goto(url + '/#/events?serial=' + ONLINE + '&limit=2');
  const count = () => document.querySelectorAll('table.events:not(.live-events) tbody tr').length;
  await page.getByText('Page 1').waitFor();
  await waitIn(page, count, null, 'the first page');
  assertEqual(await page.evaluate(count), 2, 'two events on the first page');
  const newest = await table.locator('tbody tr').first().getAttribute('data-event-id');
  await page.getByRole('button', { name: 'Older →' }).click();
  await page.getByText('Page 2').waitFor();
  await waitIn(page, (n) => {
    const r = document.querySelectorAll('table.events:not(.live-events) tbody tr');
    return r.length === 1 && r[0].dataset.eventId !== n;
  }, newest, 'the oldest event on page 2');
  assert(await page.getByRole('button', { name: 'Older →' }).isDisabled(), 'the last page');
  await page.getByRole('button', { name: '← Newer' }).click();
  await page.getByText('Page 1').waitFor();
  await waitIn(page, (n) => document.querySelector('table.events:not(.live-events) tbody tr')
    .dataset.eventId === n, newest, 'the newest event again');

  // live tail
  await page.getByRole('button', { name: 'Start live tail' }).click();
  await page.locator('.stream-state.live').waitFor();
  await host('device.event', { domain: 'Alarm', identifier: 'Motion', body: { zone: 42 } });
  const live = page.locator('table.live-events tbody tr').filter({ hasText: '"zone":42' });
  await live.waitFor();
  assert((await live.textContent()).includes(ONLINE), 'the live row names the device');
  await page.getByRole('button', { name: 'Stop live tail' }).click();
  assertEqual(await page.getByRole('button', { name: 'Start live tail' }).getAttribute('aria-pressed'),
              'false', 'the toggle is released');
});

step('a revoked token signs the console out', async (page) => {
  await page.getByRole('link', { name: 'Devices', exact: true }).click();
  await row(page, ONLINE).waitFor();
  await page.evaluate(() => sessionStorage.setItem('osap.token', 'osap_revoked-or-wrong-token-0000000000000000'));
  await page.getByLabel('Search').fill(ONLINE);
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('heading', { name: 'Sign in to OSAP' }).waitFor();
  await page.getByRole('alert').filter({ hasText: 'refused the token' }).waitFor();
});

step('sign out', async (page) => {
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Devices', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to OSAP' }).waitFor();
  assertEqual(await page.evaluate(() => sessionStorage.getItem('osap.token')), null,
              'the token is forgotten');
});

step('a link to a device leads there after signing in', async (page) => {
  await page.goto(url + '/#/devices/' + OFFLINE);
  await page.getByRole('heading', { name: 'Sign in to OSAP' }).waitFor();
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.breadcrumb [aria-current="page"]').filter({ hasText: OFFLINE }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to OSAP' }).waitFor();
});

step('a narrow screen still works', async (page) => {
  await page.setViewportSize({ width: 390, height: 800 });
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await row(page, ONLINE).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 1, 'no horizontal scrolling of the page (' + overflow + ' px)');
});

run('console');
