// The REST API of osapd (/api/v1): every call carries the operator's token as
// a bearer token; errors become ApiError with the API's stable code.

const TOKEN_KEY = 'osap.token';

/** An error answered by the API ({"error":{"code","message","field"}}) or a
 *  failure to reach it (code "network"). */
export class ApiError extends Error {
  constructor(status, code, message, field, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.body = body || null;
  }
}

/** Human text for an error, for the console's messages. */
export function describeError(err) {
  if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
  if (err.code === 'network') return 'Cannot reach the platform: ' + err.message;
  let text = err.message || err.code;
  if (err.field) text += ' (field: ' + err.field + ')';
  return text;
}

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch (e) {
    return '';
  }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch (e) {
    /* storage disabled: the token lives as long as the page */
  }
  memoryToken = token || '';
}

let memoryToken = '';
let unauthorizedHandler = null;

/** Called (once per refusal) when the API answers 401: the console signs out. */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

function token() {
  return getToken() || memoryToken;
}

/** Build "/api/v1/..." with query parameters (undefined, null and '' skipped). */
export function apiPath(path, query) {
  let url = '/api/v1' + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '') continue;
      params.append(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += '?' + qs;
  }
  return url;
}

/** Percent-encode one path segment (serials may hold ':'). */
export function seg(s) {
  return encodeURIComponent(s);
}

async function errorFrom(resp) {
  let body = null;
  const text = await resp.text().catch(() => '');
  try {
    body = text ? JSON.parse(text) : null;
  } catch (e) {
    body = null;
  }
  const e = body && body.error;
  if (e && typeof e.code === 'string') {
    return new ApiError(resp.status, e.code, e.message || e.code, e.field, body);
  }
  return new ApiError(resp.status, 'http_' + resp.status,
                      'HTTP ' + resp.status + ' ' + (resp.statusText || ''), null, body);
}

/**
 * One request. opts: {method, query, json (a value sent as JSON), body
 * (FormData or Blob), headers, signal, raw (resolve to the Response),
 * withStatus (resolve to {status, data}), noAuthHandler (a 401 does not sign
 * the console out)}. Resolves to the parsed JSON (null
 * for 204); rejects with ApiError.
 */
export async function request(path, opts = {}) {
  const headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  let resp;
  try {
    resp = await fetch(apiPath(path, opts.query), {
      method: opts.method || 'GET',
      headers,
      body,
      signal: opts.signal,
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', err && err.message ? err.message : 'network error');
  }
  if (!resp.ok) {
    const err = await errorFrom(resp);
    if (resp.status === 401 && unauthorizedHandler && !opts.noAuthHandler) unauthorizedHandler(err);
    throw err;
  }
  if (opts.raw) return resp;
  if (resp.status === 204) return opts.withStatus ? { status: 204, data: null } : null;
  const text = await resp.text();
  const data = text ? JSON.parse(text) : null;
  return opts.withStatus ? { status: resp.status, data } : data;
}

export const api = {
  get: (path, query, opts = {}) => request(path, Object.assign({ query }, opts)),
  post: (path, json, opts = {}) => request(path, Object.assign({ method: 'POST', json }, opts)),
  put: (path, json, opts = {}) => request(path, Object.assign({ method: 'PUT', json }, opts)),
  patch: (path, json, opts = {}) => request(path, Object.assign({ method: 'PATCH', json }, opts)),
  del: (path, opts = {}) => request(path, Object.assign({ method: 'DELETE' }, opts)),
};

/** GET a binary resource (a picture) as an object URL; the caller revokes it. */
export async function blobUrl(path) {
  const resp = await request(path, { raw: true, headers: { Accept: 'image/*' } });
  const blob = await resp.blob();
  return URL.createObjectURL(blob);
}

/**
 * The live stream (GET /api/v1/events/stream, Server-Sent Events) read with
 * fetch, so that the token travels in the Authorization header rather than in
 * the URL. Reconnects with Last-Event-ID when the stream ends or breaks.
 *
 *   const s = new LiveStream({serial, types: 'event,status'}, {
 *     event(data, id) {}, status(data) {}, attribute(data) {},
 *     state(s) {}   // 'connecting' | 'live' | 'reconnecting' | 'closed' | 'error'
 *   });
 *   s.start(); ... s.stop();
 */
export class LiveStream {
  constructor(query, handlers) {
    this.query = query || {};
    this.handlers = handlers || {};
    this.lastEventId = '';
    this.controller = null;
    this.stopped = true;
    this.backoff = 0;
    this.state = 'closed';
  }

  setState(s, detail) {
    this.state = s;
    if (this.handlers.state) this.handlers.state(s, detail);
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop();
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
    this.controller = null;
    this.setState('closed');
  }

  async loop() {
    while (!this.stopped) {
      this.setState(this.backoff ? 'reconnecting' : 'connecting');
      let failed = false;
      try {
        await this.once();
      } catch (err) {
        if (this.stopped) break;
        failed = true;
        if (err instanceof ApiError && (err.status === 401 || err.status === 400 ||
                                        err.status === 404)) {
          this.setState('error', err);
          this.stopped = true;
          break;
        }
      }
      if (this.stopped) break;
      this.backoff = failed ? Math.min(this.backoff ? this.backoff * 2 : 500, 10000) : 0;
      this.setState('reconnecting');
      await new Promise((r) => setTimeout(r, failed ? this.backoff : 150));
    }
  }

  async once() {
    this.controller = new AbortController();
    const headers = { Accept: 'text/event-stream' };
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    const resp = await request('/events/stream', {
      query: this.query, headers, signal: this.controller.signal, raw: true,
    });
    this.backoff = 0;
    this.setState('live');
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    let data = [];
    let event = '';
    let sawData = false;
    const dispatch = () => {
      if (!sawData) {
        event = '';
        return;
      }
      const text = data.join('\n');
      const name = event || 'message';
      data = [];
      event = '';
      sawData = false;
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        return;
      }
      const fn = this.handlers[name];
      if (fn) fn(parsed, this.lastEventId);
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let m;
      // Lines end with CRLF, LF or CR.
      while ((m = /\r\n|\r|\n/.exec(buf)) !== null) {
        if (m[0] === '\r' && m.index === buf.length - 1) break; // maybe a CRLF split
        const line = buf.slice(0, m.index);
        buf = buf.slice(m.index + m[0].length);
        if (line === '') {
          dispatch();
          continue;
        }
        if (line[0] === ':') continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val[0] === ' ') val = val.slice(1);
        if (field === 'data') {
          data.push(val);
          sawData = true;
        } else if (field === 'event') {
          event = val;
        } else if (field === 'id') {
          if (val.indexOf('\0') < 0) this.lastEventId = val;
        }
      }
    }
  }
}
