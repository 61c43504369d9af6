// The OSAP web console: sign-in, routing between the views, the header.
// Plain ES modules, no build step; everything is served by osapd's api
// service from this directory.

import { getToken, setToken, onUnauthorized, describeError, api, ApiError } from './api.js';
import { h, replace, field, errorBox, toast } from './ui.js';
import { devicesView } from './views/devices.js';
import { deviceView } from './views/device.js';
import { eventsView } from './views/events.js';

const main = document.getElementById('main');
const signoutBtn = document.getElementById('signout');
const liveEl = document.getElementById('live');

let cleanup = null;
let signInReason = '';

const LIVE_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  error: 'Live updates stopped',
};

/** Views report the state of their live stream here (shown in the header). */
export function setLive(state) {
  if (!state || state === 'closed') {
    liveEl.hidden = true;
    return;
  }
  liveEl.hidden = false;
  liveEl.dataset.state = state;
  replace(liveEl, h('span', { class: 'live-text' }, LIVE_TEXT[state] || state));
  liveEl.title = LIVE_TEXT[state] || state;
}

function setNav(name) {
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function signOut(reason) {
  setToken('');
  signInReason = reason || '';
  if (location.hash !== '#/signin') location.hash = '#/signin';
  else route();
}

onUnauthorized((err) => {
  if (!getToken()) return;
  signOut('The platform refused the token (' + describeError(err) + '). Sign in again.');
});

signoutBtn.addEventListener('click', () => {
  signOut('');
  toast('Signed out.');
});

function signInView(root) {
  const input = h('input', {
    type: 'password', name: 'token', autocomplete: 'off', required: true, spellcheck: 'false',
    autocapitalize: 'off',
  });
  const msg = h('div', { class: 'form-message', 'aria-live': 'assertive' });
  const btn = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'signin card', novalidate: true },
    h('h1', null, 'Sign in to OSAP'),
    h('p', { class: 'muted' },
      'Use an API token of this platform. An administrator creates one with ',
      h('code', null, 'osapd token create NAME'), '. The token is kept in this browser tab only.'),
    field('API token', input),
    msg,
    h('div', { class: 'actions' }, btn));
  if (signInReason) replace(msg, errorBox(signInReason));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    if (!token) {
      replace(msg, errorBox('Enter a token.'));
      input.focus();
      return;
    }
    btn.disabled = true;
    replace(msg, h('p', { class: 'muted' }, 'Checking the token…'));
    setToken(token);
    try {
      await api.get('/stats', undefined, { noAuthHandler: true });
      signInReason = '';
      input.value = '';
      // Go where the operator was going (a link to a device), else to the list.
      if (location.hash && location.hash !== '#/signin' && location.hash !== '#/') route();
      else location.hash = '#/devices';
    } catch (err) {
      setToken('');
      const text = err instanceof ApiError && err.status === 401
        ? 'The platform refused this token.'
        : describeError(err);
      replace(msg, errorBox(text, 'Cannot sign in.'));
      input.focus();
      input.select();
    } finally {
      btn.disabled = false;
    }
  });
  replace(root, form);
  input.focus();
  return null;
}

function route() {
  if (cleanup) {
    try {
      cleanup();
    } catch (e) {
      /* a view failed to clean up; keep going */
    }
    cleanup = null;
  }
  setLive(null);
  const hash = location.hash.replace(/^#/, '') || '/devices';
  const path = hash.split('?')[0];
  const signedIn = !!getToken();
  signoutBtn.hidden = !signedIn;
  document.body.classList.toggle('signed-out', !signedIn);
  if (!signedIn || path === '/signin') {
    if (signedIn && path === '/signin') {
      location.hash = '#/devices';
      return;
    }
    setNav(null);
    document.title = 'Sign in · OSAP console';
    cleanup = signInView(main);
    return;
  }
  const ctx = { setLive, signOut };
  let m;
  if ((m = /^\/devices\/(.+)$/.exec(path))) {
    setNav('devices');
    cleanup = deviceView(main, decodeURIComponent(m[1]), ctx);
  } else if (path === '/events') {
    setNav('events');
    cleanup = eventsView(main, ctx);
  } else {
    setNav('devices');
    cleanup = devicesView(main, ctx);
  }
  // Move the focus to the new page's heading for keyboard and screen reader users.
  const h1 = main.querySelector('h1');
  if (h1) {
    h1.setAttribute('tabindex', '-1');
    h1.focus({ preventScroll: true });
  }
}

window.addEventListener('hashchange', route);
route();
