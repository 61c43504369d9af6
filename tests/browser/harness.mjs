// Harness of the console's browser tests: launches Debian's chromium through
// playwright-core with a fresh profile, runs named steps in order, keeps a
// screenshot and the page's console of a failing step, and talks to the host
// test (tests/interop/test_console_*.py) for everything outside the browser:
//
//   stdout: {"rpc":N,"cmd":"device.stop","args":{...}}   a request to the host
//           # text                                         a log line
//           {"result":"pass"|"fail", ...}                  the last line
//   stdin:  {"rpc":N,"ok":true,"result":...} or {"rpc":N,"ok":false,"error":"..."}
//
// Environment: OSAP_CONSOLE_URL (the platform), OSAP_CONSOLE_TOKEN,
// OSAP_TEST_ARTIFACTS (where failure screenshots go), CHROMIUM (default
// /usr/bin/chromium), OSAP_BROWSER_TIMEOUT (ms per step, default 30000).

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export const url = process.env.OSAP_CONSOLE_URL || 'http://127.0.0.1:8080';
export const token = process.env.OSAP_CONSOLE_TOKEN || '';
const artifacts = process.env.OSAP_TEST_ARTIFACTS ||
  path.join(process.cwd(), 'screenshots');
const stepTimeout = Number(process.env.OSAP_BROWSER_TIMEOUT || 30000);

export function log(...args) {
  process.stdout.write('# ' + args.join(' ').replace(/\n/g, '\n# ') + '\n');
}

// ---- the host ----
let nextRpc = 1;
const waiting = new Map();
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (e) {
    return;
  }
  const w = waiting.get(msg.rpc);
  if (!w) return;
  waiting.delete(msg.rpc);
  if (msg.ok) w.resolve(msg.result);
  else w.reject(new Error('host: ' + msg.error));
});

/** Ask the host test to do something (start/stop a device, raise an event...). */
export function host(cmd, args) {
  const rpc = nextRpc++;
  return new Promise((resolve, reject) => {
    waiting.set(rpc, { resolve, reject });
    process.stdout.write(JSON.stringify({ rpc, cmd, args: args || {} }) + '\n');
  });
}

// ---- assertions ----
export function assert(cond, message) {
  if (!cond) throw new Error('assertion failed: ' + message);
}

export function assertEqual(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error((message ? message + ': ' : '') + 'expected ' + e + ', got ' + a);
}

// ---- the run ----
const steps = [];

/** Register a step; steps run in order and share the page. */
export function step(name, fn) {
  steps.push({ name, fn });
}

function safeName(s) {
  return s.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 80);
}

/** Launch chromium and run the registered steps; exits the process. */
export async function run(suite) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'osap-chromium-'));
  const problems = [];
  const consoleLines = [];
  let context = null;
  let page = null;
  let failed = null;
  const started = Date.now();
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
      acceptDownloads: false,
    });
    context.setDefaultTimeout(stepTimeout);
    page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => {
      consoleLines.push('[' + m.type() + '] ' + m.text());
      if (consoleLines.length > 200) consoleLines.shift();
    });
    page.on('pageerror', (err) => problems.push('uncaught error in the page: ' + err.message));
    for (const s of steps) {
      const t0 = Date.now();
      try {
        await s.fn(page, context);
        if (problems.length) throw new Error(problems.join('; '));
        log('ok   ' + s.name + ' (' + (Date.now() - t0) + ' ms)');
      } catch (err) {
        failed = { step: s.name, error: String(err && err.stack ? err.stack : err) };
        log('FAIL ' + s.name + ': ' + failed.error);
        try {
          fs.mkdirSync(artifacts, { recursive: true });
          const shot = path.join(artifacts, safeName(suite) + '-' + safeName(s.name) + '.png');
          await page.screenshot({ path: shot, fullPage: true });
          failed.screenshot = shot;
          log('screenshot: ' + shot);
          const html = shot.replace(/\.png$/, '.html');
          fs.writeFileSync(html, await page.content());
          log('page HTML: ' + html);
        } catch (e) {
          log('no screenshot: ' + e.message);
        }
        if (consoleLines.length) log('browser console:\n' + consoleLines.join('\n'));
        break;
      }
    }
  } catch (err) {
    failed = { step: '(launch)', error: String(err && err.stack ? err.stack : err) };
    log('FAIL launching chromium: ' + failed.error);
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
  const result = failed
    ? Object.assign({ result: 'fail', suite }, failed)
    : { result: 'pass', suite, steps: steps.length, ms: Date.now() - started };
  process.stdout.write(JSON.stringify(result) + '\n');
  rl.close();
  process.exit(failed ? 1 : 0);
}

// ---- helpers used by the suites ----

/** Wait until @p fn (evaluated in the page) returns a truthy value. */
export async function waitIn(page, fn, arg, what) {
  try {
    return await page.waitForFunction(fn, arg, { timeout: stepTimeout });
  } catch (err) {
    throw new Error('timed out waiting for ' + (what || 'a condition') + ': ' + err.message);
  }
}

/** Every visible form control has an accessible name (label, aria-label or
 *  aria-labelledby); returns the offenders. */
export async function unlabelledControls(page) {
  return page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll('input, select, textarea, button')) {
      if (el.type === 'hidden' || el.offsetParent === null) continue;
      const name = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') ||
        (el.labels && el.labels.length ? el.labels[0].textContent.trim() : '') ||
        (el.tagName === 'BUTTON' ? el.textContent.trim() : '');
      if (!name) bad.push(el.outerHTML.slice(0, 120));
    }
    return bad;
  });
}
