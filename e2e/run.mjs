#!/usr/bin/env node
// corsair end-to-end suite: real Chromium is the judge.
//
// Starts page origins (node), a recording upstream (the `e2e_app` example in
// `--plain` mode), `corsair serve` over http and over TLS in front of it, and
// the axum `e2e_app` with the corsair-tower layer; then, for a matrix of
// policies x origins x methods x request headers x credentials modes, runs
// fetch() from a page of each origin in headless Chromium and compares, cell by
// cell:
//   - the browser's verdict (response delivered / TypeError),
//   - the verdict the policy intends (an oracle written here from the Fetch
//     spec, independently of corsair's engine),
//   - `corsair check --policy <config> --format json`'s prediction,
//   - whether the actual request reached the upstream (a refused preflight
//     must keep it from ever arriving), whether a preflight was sent, and which
//     response headers the script could read.
// Then, for every cell the browser blocked on the gateway, Chromium's console
// line goes to `corsair explain --policy`, which must name Chromium's error
// (as DevTools' own CORS issue names it) and the rejection the gateway logged
// (or the browser's own rule, when the gateway rejected nothing). Then
// preflight caching (max_age) is checked by counting preflights at the
// gateway's /metrics and at the tower app. Last, the WebSocket part
// (`websocketPart`): Chromium opens WebSockets through two more gateways (http
// and TLS) to a node echo upstream; an unlisted origin, `null` and a
// cross-origin page on an uncovered path are refused before the upstream
// counts a handshake, a listed origin and the page's own origin exchange
// messages; it reports whether Chromium used HTTP/2 (RFC 8441) for wss://.
// A self-contained part
// (csrfPart) checks cross-origin protection (CSRF) with Chromium's own form
// and no-cors POSTs.
//
// Run it with `bash e2e/run.sh` (installs Chromium, builds the binaries).
// Environment: CORSAIR_BIN, E2E_APP_BIN, CHROMIUM (paths); E2E_CSRF_TARGETS
// (`gateway,tower`, the default: the servers whose cross-origin protection
// the CSRF part checks, see csrfPart); E2E_REQUIRE_ALL=1
// turns "skipped because not available" into a failure; E2E_KEEP=1 keeps the
// work directory (configs, certificate, server logs) even on success.

import { chromium } from 'playwright-core';
import { spawn, execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
const CORSAIR_BIN = process.env.CORSAIR_BIN || path.join(TARGET, 'debug', 'corsair');
const E2E_APP_BIN = process.env.E2E_APP_BIN || path.join(TARGET, 'debug', 'examples', 'e2e_app');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const REQUIRE_ALL = process.env.E2E_REQUIRE_ALL === '1';
const DEADLINE_S = Number(process.env.E2E_DEADLINE_S || 600);
// Which servers the CSRF part checks (cross-origin protection defaults to on in
// both: the gateway's `protect_unsafe_requests`, the tower app's CorsLayer
// made from the same [[policy]] tables). With `tower` listed, the matrix also
// expects the tower app to refuse an unlisted origin's simple POST.
const CSRF_TARGETS = (process.env.E2E_CSRF_TARGETS || 'gateway,tower').split(',').map((t) => t.trim()).filter(Boolean);
const T0 = Date.now();
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'corsair-e2e-'));

const say = (...a) => console.log(...a);
const elapsed = () => `${((Date.now() - T0) / 1000).toFixed(1)}s`;
const banner = (msg) => {
  const line = '!'.repeat(78);
  say(`\n${line}\n!! ${msg}\n${line}`);
};

// ---------------------------------------------------------------------------
// Process hygiene: every child is killed at the end, on failure and on signals.

const children = new Set();
let browser = null;
let context = null;
const nodeServers = [];

function killChildren(signal) {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill(signal);
      } catch {}
    }
  }
}

async function shutdown() {
  if (browser) {
    const b = browser;
    browser = null;
    await Promise.race([b.close().catch(() => {}), sleep(5000)]);
  }
  for (const s of nodeServers) {
    try {
      s.closeAllConnections?.();
      s.close();
    } catch {}
  }
  killChildren('SIGTERM');
  const until = Date.now() + 3000;
  while ([...children].some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < until) {
    await sleep(50);
  }
  killChildren('SIGKILL');
}

process.on('exit', () => killChildren('SIGKILL'));
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    console.error(`e2e: ${sig}: stopping every server`);
    await shutdown();
    process.exit(130);
  });
}
const deadline = setTimeout(async () => {
  stopping = true;
  banner(`e2e: deadline of ${DEADLINE_S}s exceeded: stopping (logs in ${WORK})`);
  await shutdown();
  process.exit(1);
}, DEADLINE_S * 1000);
deadline.unref();

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------
// Helpers: ports, child processes, tiny HTTP client.

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function freePorts(n) {
  const set = new Set();
  while (set.size < n) set.add(await freePort());
  return [...set];
}

/** Spawns a long-running child, its output in WORK/<name>.log. */
function startChild(name, bin, args, env = {}) {
  const logPath = path.join(WORK, `${name}.log`);
  const out = fs.openSync(logPath, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', out, out], env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...env } });
  fs.closeSync(out);
  children.add(child);
  child.name = name;
  child.logPath = logPath;
  child.exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
  child.on('error', (e) => fs.appendFileSync(logPath, `\nspawn error: ${e.message}\n`));
  return child;
}

function tail(file, n = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Waits until `port` accepts connections; rejects if the child exits first. */
async function waitReady(child, port, timeoutMs = 15000) {
  const until = Date.now() + timeoutMs;
  let exited = null;
  child.exited.then((e) => (exited = e));
  while (Date.now() < until) {
    if (exited) return { ok: false, exited };
    if (await canConnect(port)) return { ok: true };
    await sleep(50);
  }
  return { ok: false, timeout: true };
}

/** GET/POST over plain http to 127.0.0.1 (Host header as given). */
function request(port, method, pathname, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: pathname, headers: { host }, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function run(bin, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 20000, maxBuffer: 4 << 20, ...opts }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr, err });
    });
  });
}

async function pool(items, n, fn) {
  const out = new Array(items.length);
  let i = 0;
  const worker = async () => {
    while (i < items.length) {
      const k = i++;
      out[k] = await fn(items[k], k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

// ---------------------------------------------------------------------------
// The oracle: what a policy intends for one fetch(), from the Fetch standard
// (methods normalized; GET/HEAD/POST and safelisted headers need no
// preflight; `*` covers every method and header but Authorization, and only
// without credentials; origins compared as exact serializations, `*.d`
// meaning strict subdomains of d, `:*` any port; credentials need
// allow_credentials and a non-`*` origin). Written independently of
// corsair's engine on purpose.

const NORMALIZED = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
const normalizeMethod = (m) => (NORMALIZED.includes(m.toUpperCase()) ? m.toUpperCase() : m);
const SAFE_METHODS = ['GET', 'HEAD', 'POST'];
const SAFE_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

function isSafelistedHeader(name, value) {
  switch (name.toLowerCase()) {
    case 'accept':
    case 'accept-language':
    case 'content-language':
      return true; // the suite only sends plain values
    case 'content-type':
      return SAFE_CONTENT_TYPES.includes(value.split(';')[0].trim().toLowerCase());
    default:
      return false;
  }
}

function parseOrigin(s) {
  const m = /^([a-z]+):\/\/([^/:]+)(?::(\d+|\*))?$/.exec(s);
  if (!m) throw new Error(`oracle: cannot parse ${s}`);
  const [, scheme, host, port] = m;
  return { scheme, host, port: port ?? (scheme === 'https' ? '443' : '80') };
}

function originMatches(pattern, origin) {
  if (pattern === '*') return true;
  const p = parseOrigin(pattern);
  const o = parseOrigin(origin);
  if (p.scheme !== o.scheme) return false;
  if (p.port !== '*' && p.port !== o.port) return false;
  if (p.host.startsWith('*.')) return o.host.endsWith(p.host.slice(1)) && o.host.length > p.host.length - 1;
  return p.host === o.host;
}

/** The request as the browser will make it. */
function describeRequest(cell) {
  const method = normalizeMethod(cell.method);
  const headers = Object.entries(cell.headers).map(([k, v]) => [k.toLowerCase(), v]);
  if (cell.body != null && !headers.some(([k]) => k === 'content-type')) {
    headers.push(['content-type', 'text/plain;charset=UTF-8']); // a string body
  }
  const unsafe = headers.filter(([k, v]) => !isSafelistedHeader(k, v)).map(([k]) => k);
  const preflight = !SAFE_METHODS.includes(method) || unsafe.length > 0;
  return { method, unsafe, preflight };
}

/** `protects`: the server refuses an unsafe request (not GET, HEAD or OPTIONS)
 * from an origin the policy does not allow before its handler sees it
 * (cross-origin protection; the matrix's pages are never the server's own
 * origin, and `null` is never trusted). */
function intent(policy, cell, protects) {
  const { method, unsafe, preflight } = describeRequest(cell);
  const creds = cell.credentials === 'include';
  const pub = policy.allow_origins.includes('*');
  const originOk = policy.allow_origins.some((p) => originMatches(p, cell.origin));
  // The CORS check of every response (preflight or actual).
  const corsOk = originOk && (!creds || (!pub && policy.allow_credentials === true));
  const methods = (policy.allow_methods || []).map(normalizeMethod);
  const headers = (policy.allow_headers || []).map((h) => h.toLowerCase());
  const methodOk = SAFE_METHODS.includes(method) || methods.includes(method) || (!creds && methods.includes('*'));
  const headersOk = unsafe.every((h) => headers.includes(h) || (!creds && headers.includes('*') && h !== 'authorization'));
  const preflightOk = !preflight || (corsOk && methodOk && headersOk);
  const ok = corsOk && preflightOk;
  const safeMethod = ['GET', 'HEAD', 'OPTIONS'].includes(method);
  const passesProtection = !protects || safeMethod || (originOk && cell.origin !== 'null');
  const expose = (policy.expose_headers || []).map((h) => h.toLowerCase());
  const readable = {};
  for (const h of READ_HEADERS) {
    readable[h] = ok && (SAFELISTED_RESPONSE.includes(h) || expose.includes(h) || (!creds && expose.includes('*')));
  }
  // sent: the browser sends the actual request; reached: the handler behind
  // corsair gets it.
  return { ok, preflight, sent: preflightOk, reached: preflightOk && passesProtection, method, readable };
}

// ---------------------------------------------------------------------------
// The matrix.

const METHODS = ['GET', 'POST', 'PUT', 'put', 'patch', 'DELETE'];
const HEADER_SETS = [
  { id: 'none', headers: {} },
  { id: 'x-custom', headers: { 'X-Custom': 'e2e' } },
  { id: 'authz', headers: { Authorization: 'Bearer e2e-token' } },
  { id: 'json', headers: { 'Content-Type': 'application/json' } },
];
const CREDENTIALS = ['omit', 'include'];
const READ_HEADERS = ['x-request-id', 'x-secret', 'content-type'];
const SAFELISTED_RESPONSE = ['cache-control', 'content-language', 'content-length', 'content-type', 'expires', 'last-modified', 'pragma'];
const BODY = '{"e2e":true}';

function makePolicies(P) {
  const { pp, pp2 } = P;
  return [
    {
      name: 'exact',
      path_prefix: '/exact',
      allow_origins: [`http://app.example.com:${pp}`],
      allow_insecure_origins: true,
      allow_methods: ['PUT', 'DELETE', 'PATCH'],
      allow_headers: ['x-custom', 'content-type'],
      expose_headers: ['x-request-id'],
    },
    {
      name: 'subdomains',
      path_prefix: '/sub',
      allow_origins: [`http://*.example.com:${pp}`],
      allow_insecure_origins: true,
      allow_methods: ['put', 'DELETE'],
      allow_headers: ['*'],
      expose_headers: ['x-request-id', 'x-secret'],
    },
    {
      name: 'public',
      path_prefix: '/public',
      allow_origins: ['*'],
      allow_methods: ['PUT', 'DELETE'],
      allow_headers: ['*'],
      expose_headers: ['*'],
    },
    {
      name: 'credentialed',
      path_prefix: '/creds',
      allow_origins: [`http://app.example.com:${pp}`, 'https://*.example.com:*', 'http://app.localhost:*'],
      allow_insecure_origins: true,
      allow_credentials: true,
      allow_methods: ['PUT', 'DELETE', 'patch'],
      allow_headers: ['authorization', 'x-custom', 'content-type'],
      expose_headers: ['x-request-id'],
      max_age: 600,
    },
    {
      name: 'star',
      path_prefix: '/star',
      allow_origins: [`http://app.example.com:${pp}`, `http://app.localhost:${pp2}`],
      allow_insecure_origins: true,
      allow_methods: ['*'],
      allow_headers: ['*', 'authorization'],
      expose_headers: ['*'],
    },
    // Debug mode: a preflight refused on its method or a header, from an
    // allowed origin, gets 204 with Access-Control-Allow-Origin, so that
    // Chromium names the method or the header in its console.
    {
      name: 'debug',
      path_prefix: '/debug',
      allow_origins: [`http://app.example.com:${pp}`],
      allow_insecure_origins: true,
      allow_credentials: true,
      allow_methods: ['PUT', 'DELETE'],
      allow_headers: ['x-custom'],
      expose_headers: ['x-request-id'],
      debug: true,
    },
    // Only for the CSRF part: cross-origin protection (on by default) with an
    // exempt callback.
    {
      name: 'csrf',
      path_prefix: '/csrf',
      allow_origins: [`http://app.example.com:${pp}`, `https://app.example.com:${pp}`],
      allow_insecure_origins: true,
      protect_unsafe_requests_exempt: ['/csrf/oauth/callback'],
      matrix: false,
    },
    // Only for the preflight-cache phase.
    {
      name: 'no-cache',
      path_prefix: '/nocache',
      allow_origins: [`http://app.example.com:${pp}`],
      allow_insecure_origins: true,
      allow_methods: ['PUT'],
      allow_headers: ['x-custom'],
      max_age: 0,
      matrix: false,
    },
  ];
}

function makeOrigins(P) {
  const { pp, pp2 } = P;
  return [
    { origin: `http://app.example.com:${pp}`, note: 'listed' },
    { origin: `http://deep.app.example.com:${pp}`, note: 'deep subdomain' },
    { origin: `http://example.com:${pp}`, note: 'apex of *.example.com' },
    { origin: `http://evilexample.com:${pp}`, note: 'suffix look-alike' },
    { origin: `http://app.example.com.evil.net:${pp}`, note: 'prefix look-alike' },
    { origin: `http://app.example.com:${pp2}`, note: 'other port' },
    { origin: `https://app.example.com:${pp}`, note: 'other scheme (https)' },
    { origin: `http://evil.example:${pp}`, note: 'unrelated' },
    { origin: `http://app.localhost:${pp2}`, note: 'loopback name' },
  ];
}

function tomlValue(v) {
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

function configToml({ listen, upstream, admin, tls, policies }) {
  const lines = ['# generated by e2e/run.mjs', `listen = "${listen}"`, `upstream = "${upstream}"`, ''];
  if (tls) lines.push('[tls]', `cert = "${tls.cert}"`, `key = "${tls.key}"`, '');
  if (admin) lines.push('[admin]', `listen = "${admin}"`, '');
  lines.push('[limits]', 'shutdown_grace = 1', '');
  for (const p of policies) {
    lines.push('[[policy]]');
    for (const [k, v] of Object.entries(p)) if (k !== 'matrix') lines.push(`${k} = ${tomlValue(v)}`);
    lines.push('');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// Node servers: the page origins (http and https on the same port: the first
// byte tells a TLS ClientHello from a request line, so `http://h:P` and
// `https://h:P` differ by scheme only).

const PAGE = '<!doctype html><meta charset="utf-8"><title>corsair e2e page</title><p>corsair e2e page origin</p>';

function pageServer(port, tls) {
  const handler = (req, res) => {
    if (req.url === '/favicon.ico') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(PAGE);
  };
  const h1 = http.createServer(handler);
  const h2 = https.createServer(tls, handler);
  const front = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.once('data', (buf) => {
      sock.pause();
      sock.unshift(buf);
      (buf[0] === 0x16 ? h2 : h1).emit('connection', sock);
      process.nextTick(() => sock.resume());
    });
  });
  nodeServers.push(front, h1, h2);
  return new Promise((resolve, reject) => {
    front.once('error', reject);
    front.listen(port, '127.0.0.1', resolve);
  });
}

// ---------------------------------------------------------------------------
// The browser side: runs a batch of cells from one page.

async function runInPage({ cells, concurrency }) {
  const out = [];
  let i = 0;
  async function worker() {
    while (i < cells.length) {
      const c = cells[i++];
      const init = { method: c.method, headers: c.headers, credentials: c.credentials, mode: 'cors', signal: AbortSignal.timeout(15000) };
      if (c.body != null) init.body = c.body;
      try {
        const r = await fetch(c.url, init);
        const readable = {};
        for (const h of c.read) readable[h] = r.headers.get(h) !== null;
        await r.text();
        out.push({ id: c.id, ok: true, status: r.status, readable });
      } catch (e) {
        out.push({ id: c.id, ok: false, error: `${e.name}: ${e.message}`, readable: {} });
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

async function runCellsInBrowser(context, cells, recorder = null) {
  const byOrigin = new Map();
  for (const c of cells) {
    if (!byOrigin.has(c.origin)) byOrigin.set(c.origin, []);
    byOrigin.get(c.origin).push(c);
  }
  const results = new Map();
  await Promise.all(
    [...byOrigin].map(async ([origin, list]) => {
      const page = await context.newPage();
      if (recorder) await recorder.attach(page);
      try {
        await page.goto(`${origin}/`, { timeout: 30000 });
        const got = await page.evaluate(runInPage, {
          cells: list.map((c) => ({ id: c.id, url: c.url, method: c.method, headers: c.headers, credentials: c.credentials, body: c.body, read: READ_HEADERS })),
          concurrency: 6,
        });
        for (const r of got) results.set(r.id, r);
      } finally {
        await page.close();
      }
    }),
  );
  return results;
}

// ---------------------------------------------------------------------------
// corsair check and the gateway's metrics.

function checkArgs(cell, configPath) {
  const args = ['check', cell.checkUrl, '--origin', cell.origin, '--method', cell.method];
  for (const [k, v] of Object.entries(cell.headers)) args.push('--header', `${k}: ${v}`);
  if (cell.body != null && !Object.keys(cell.headers).some((k) => k.toLowerCase() === 'content-type')) {
    args.push('--body-type', 'text/plain;charset=UTF-8');
  }
  if (cell.credentials === 'include') args.push('--credentials');
  args.push('--policy', configPath, '--format', 'json');
  return args;
}

async function corsairCheck(cell, configPath) {
  const r = await run(CORSAIR_BIN, checkArgs(cell, configPath));
  let json = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {}
  if (!json || typeof json.allowed !== 'boolean' || (r.code !== 0 && r.code !== 1)) {
    return { error: `exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 3).join(' / ')}` };
  }
  if ((r.code === 0) !== json.allowed) {
    return { error: `exit code ${r.code} contradicts "allowed": ${json.allowed}` };
  }
  return {
    allowed: json.allowed,
    // What check says the browser sends: a preflight, and the actual request.
    preflight: json.preflight != null,
    actual: json.actual != null,
  };
}

/** The number of preflights the gateway answered (accepted and rejected),
 * from `corsair_preflights_total{policy,result}` in its Prometheus text. */
function preflightTotal(text) {
  let total = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const m = /^corsair_preflights_total(\{[^}]*\})?\s+([0-9.eE+-]+)\s*$/.exec(line);
    if (m) {
      total += Number(m[2]);
      seen = true;
    }
  }
  return seen ? total : null;
}

// ---------------------------------------------------------------------------
// Comparison and the table.

function compare(cell, browser, check, reachedCount, preflightCount) {
  const exp = cell.expect;
  const problems = [];
  if (!browser) problems.push('no browser result');
  else {
    if (browser.ok !== exp.ok) problems.push(`browser ${browser.ok ? 'allowed' : 'blocked'}, intent ${exp.ok ? 'allowed' : 'blocked'}`);
    if (browser.error && !/^TypeError/.test(browser.error)) problems.push(`browser error ${browser.error}`);
    if (browser.ok) {
      for (const h of READ_HEADERS) {
        if (browser.readable[h] !== exp.readable[h]) problems.push(`${h} ${browser.readable[h] ? 'readable' : 'hidden'}, intent ${exp.readable[h] ? 'readable' : 'hidden'}`);
      }
    }
  }
  if (check) {
    if (check.error) problems.push(`corsair check: ${check.error}`);
    else {
      if (check.allowed !== exp.ok) problems.push(`corsair check predicts ${check.allowed ? 'allowed' : 'blocked'}, intent ${exp.ok ? 'allowed' : 'blocked'}`);
      if (check.preflight !== exp.preflight) problems.push(`corsair check ${check.preflight ? 'sends' : 'sends no'} preflight, intent ${exp.preflight ? 'one' : 'none'}`);
      if (check.actual !== exp.sent) problems.push(`corsair check ${check.actual ? 'sends' : 'does not send'} the actual request, intent ${exp.sent ? 'sent' : 'not sent'}`);
    }
  }
  if (reachedCount !== undefined) {
    const want = exp.reached ? 1 : 0;
    if (reachedCount !== want) problems.push(`${exp.method} reached the upstream ${reachedCount}x, intent ${want}x`);
  }
  if (preflightCount !== undefined) {
    const want = exp.preflight ? 1 : 0;
    if (preflightCount !== want) problems.push(`${preflightCount} preflight(s) arrived, expected ${want}`);
  }
  return problems;
}

function symbol(r) {
  if (!r.browser) return '??';
  if (r.browser.ok) {
    const rd = r.browser.readable;
    return `ok:${rd['x-request-id'] ? 'r' : ''}${rd['x-secret'] ? 's' : ''}${!rd['x-request-id'] && !rd['x-secret'] ? '-' : ''}`;
  }
  return r.reached ? 'NO>' : 'NO';
}

function printTable(title, policies, origins, rows) {
  say(`\n=== ${title}`);
  const byKey = new Map(rows.map((r) => [r.cell.key, r]));
  const W = 9;
  for (const p of policies) {
    const desc = [
      `origins ${p.allow_origins.join(' ')}`,
      `methods ${(p.allow_methods || []).join(',') || '-'}`,
      `headers ${(p.allow_headers || []).join(',') || '-'}`,
      `expose ${(p.expose_headers || []).join(',') || '-'}`,
      p.allow_credentials ? 'credentials' : 'no credentials',
      p.max_age !== undefined ? `max_age ${p.max_age}` : null,
      p.debug ? 'debug mode' : null,
    ].filter(Boolean);
    say(`\n--- policy "${p.name}" (${p.path_prefix}): ${desc.join('; ')}`);
    const hdr = HEADER_SETS.map((h) => h.id.padEnd(W)).join('');
    say(`${''.padEnd(38)}${''.padEnd(8)}${'credentials: omit'.padEnd(W * HEADER_SETS.length)}| credentials: include`);
    say(`${'origin'.padEnd(38)}${'method'.padEnd(8)}${hdr}| ${hdr}`);
    for (const o of origins) {
      for (const m of METHODS) {
        const cells = CREDENTIALS.map((cr) =>
          HEADER_SETS.map((h) => {
            const r = byKey.get(`${p.name}|${o.origin}|${m}|${h.id}|${cr}`);
            if (!r) return ''.padEnd(W);
            return (symbol(r) + (r.problems.length ? '!' : '')).padEnd(W);
          }).join(''),
        );
        const label = m === METHODS[0] ? o.origin : m === METHODS[1] ? `  (${o.note})` : '';
        say(`${label.padEnd(38)}${m.padEnd(8)}${cells.join('| ')}`.trimEnd());
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Part: corsair explain against Chromium's own words.
//
// For every cell the browser blocked on the gateway half of the matrix, the
// console line Chromium printed ("Access to fetch at ... has been blocked by
// CORS policy: ...") goes to `corsair explain --policy <config>` with the
// cell's method, headers and credentials. It must:
//   - understand the line, and name the same error as Chromium's own
//     DevTools issue for that request (Audits.issueAdded, CorsIssue:
//     corsErrorStatus.corsError, turned into snake_case);
//   - name the rejection the gateway made for that request (its log line
//     `CORS request rejected`, or `cross-origin request refused (403)` for a
//     POST that cross-origin protection refused, field `reason`), or none when the gateway
//     made none (then the browser's own rule refused it, e.g. `*` with
//     credentials: explain must say `refused_by: browser`);
//   - reach, with the engine, the error of the message (`consistent`).

/** Records console lines and CORS issues by request URL. */
function makeConsoleRecorder() {
  const messages = new Map(); // url -> [text]
  const issues = new Map(); // url -> { corsError, failedParameter }
  let lines = 0;
  const note = (text) => {
    const m = /Access to [^']* at '([^']+)'/.exec(text);
    if (!m || !/has been blocked by CORS policy/.test(text)) return;
    lines++;
    if (!messages.has(m[1])) messages.set(m[1], []);
    messages.get(m[1]).push(text);
  };
  return {
    messages,
    issues,
    lines: () => lines,
    async attach(page) {
      page.on('console', (msg) => note(msg.text()));
      try {
        const cdp = await page.context().newCDPSession(page);
        cdp.on('Audits.issueAdded', ({ issue }) => {
          const d = issue && issue.code === 'CorsIssue' ? issue.details.corsIssueDetails : null;
          if (d && !d.isWarning && d.request && d.corsErrorStatus) issues.set(d.request.url, d.corsErrorStatus);
        });
        await cdp.send('Audits.enable');
      } catch (e) {
        say(`(no DevTools issues: ${e.message})`);
      }
    },
  };
}

/** `PreflightMissingAllowOriginHeader` -> `preflight_missing_allow_origin_header`. */
const snake = (name) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/** The gateways' rejections, by request path: `reason` of `CORS request rejected`
 * or of `cross-origin request refused (403)` (cross-origin protection). */
function gatewayRejections(gateways) {
  const byPath = new Map();
  for (const g of [gateways.http, gateways.tls]) {
    for (const line of fs.readFileSync(g.logPath, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      let v;
      try {
        v = JSON.parse(line);
      } catch {
        continue;
      }
      const rejection = v.message === 'CORS request rejected' || v.message === 'cross-origin request refused (403)';
      if (rejection && !byPath.has(v.path)) byPath.set(v.path, v.reason);
    }
  }
  return byPath;
}

function explainArgs(cell, message, configPath) {
  const args = ['explain', message, '--method', cell.method];
  for (const [k, v] of Object.entries(cell.headers)) args.push('--header', `${k}: ${v}`);
  if (cell.body != null && !Object.keys(cell.headers).some((k) => k.toLowerCase() === 'content-type')) {
    args.push('--body-type', 'text/plain;charset=UTF-8');
  }
  if (cell.credentials === 'include') args.push('--credentials');
  args.push('--policy', configPath, '--format', 'json');
  return args;
}

async function explainPart({ run: gatewayRun, httpCfg, gateways, rec }) {
  say('\n=== corsair explain: Chromium\'s console message for every blocked case of the gateway matrix');
  const rejected = gatewayRejections(gateways);
  const blocked = gatewayRun.cells.filter((c) => gatewayRun.results.get(c.id) && !gatewayRun.results.get(c.id).ok);
  say(`${blocked.length} blocked cells; ${rec.lines()} console lines and ${rec.issues.size} DevTools CORS issues recorded; ${rejected.size} rejections logged by the gateways`);
  const t = Date.now();
  const outcomes = await pool(blocked, 6, async (cell) => {
    const problems = [];
    const message = (rec.messages.get(cell.url) || [])[0];
    const issue = rec.issues.get(cell.url);
    const want = rejected.has(cell.pathname) ? rejected.get(cell.pathname) : null;
    if (!message) return { cell, problems: ['Chromium printed no CORS console line for it'], want };
    const r = await run(CORSAIR_BIN, explainArgs(cell, message, httpCfg));
    let json = null;
    try {
      json = JSON.parse(r.stdout);
    } catch {}
    if (r.code !== 0 || !json || json.understood !== true) {
      return { cell, message, want, problems: [`corsair explain: exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n')[0]}`] };
    }
    if (issue && json.error !== snake(issue.corsError)) problems.push(`error ${json.error}, Chromium's DevTools issue says ${snake(issue.corsError)}`);
    if (!issue) problems.push('no DevTools CORS issue recorded for it');
    if (json.rejection !== want) problems.push(`rejection ${json.rejection}, the gateway logged ${want}`);
    if (want === null && json.refused_by !== 'browser') problems.push(`no rejection, but refused_by is ${json.refused_by} (the browser's own rule)`);
    if (want !== null && json.refused_by !== 'policy') problems.push(`the gateway rejected it, but refused_by is ${json.refused_by}`);
    if (json.consistent !== true) problems.push(`the engine reaches ${json.simulated_error}, not the message's ${json.error}`);
    return { cell, message, want, json, problems };
  });
  say(`corsair explain: ${blocked.length} runs in ${((Date.now() - t) / 1000).toFixed(1)}s`);
  // What the blocked cases were, by Chromium's error and the policy's rejection.
  const tally = new Map();
  for (const o of outcomes) {
    const key = `${(o.json && o.json.error) || '?'} | ${o.want || '(none: the browser\'s own rule)'}`;
    const t0 = tally.get(key) || { n: 0, bad: 0 };
    t0.n++;
    if (o.problems.length) t0.bad++;
    tally.set(key, t0);
  }
  say(`${'Chromium error | rejection the gateway logged'.padEnd(78)}cells  disagreeing`);
  for (const [k, v] of [...tally].sort((a, b) => b[1].n - a[1].n)) say(`${k.padEnd(78)}${String(v.n).padStart(5)}  ${v.bad}`);
  let agree = 0;
  for (const o of outcomes) {
    if (o.problems.length) {
      summary.failed++;
      failures.push({
        label: `corsair explain: policy ${o.cell.policy.name}, origin ${o.cell.origin}, ${o.cell.method} ${JSON.stringify(o.cell.headers)} credentials ${o.cell.credentials}\n    message: ${o.message || '-'}\n    command: corsair ${explainArgs(o.cell, o.message || '', httpCfg).map((a) => (/[\s*;'"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`,
        problems: o.problems,
      });
    } else {
      agree++;
      summary.passed++;
    }
  }
  say(`corsair explain agrees with Chromium and the gateway on ${agree} of ${blocked.length} blocked cells`);
}


// ---------------------------------------------------------------------------
// Part: cross-origin protection (CSRF), self-contained.
//
// CORS decides who reads a response, not who sends a request: a cross-origin
// <form method=post> and a fetch(url, {method: 'POST', mode: 'no-cors'}) with a
// form body need no preflight. Against each target (the gateway over http,
// where Chromium sends no Sec-Fetch-Site and the Origin-vs-Host fallback
// decides; over TLS, where it sends Sec-Fetch-Site; and the tower app's
// CorsLayer, on a *.localhost name, where it sends Sec-Fetch-Site), from an unlisted origin, a
// listed origin and the target's own origin (a page the target serves), a form
// POST and a no-cors POST are made in Chromium; each must reach the handler
// behind corsair (counted there) exactly when the policy `csrf` trusts the
// page, and the exact exempt path must accept the unlisted origin's form. For
// the gateways, each refusal must be logged with the reason the engine gives
// for what Chromium sent (`origin_host_mismatch` without Sec-Fetch-Site,
// `cross_origin_request` with it); for every case, `corsair check --mode
// navigate|no-cors --policy` must predict what happened.

/** In the page: submits a POST form into a hidden iframe; resolves when the answer loaded. */
async function submitFormInPage({ url, fields }) {
  return new Promise((resolve) => {
    const root = document.body || document.documentElement;
    const name = `csrf${Math.random().toString(36).slice(2)}`;
    const frame = document.createElement('iframe');
    frame.name = name;
    root.appendChild(frame);
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = url;
    form.target = name;
    form.enctype = 'application/x-www-form-urlencoded';
    for (const [k, v] of Object.entries(fields)) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = k;
      input.value = v;
      form.appendChild(input);
    }
    root.appendChild(form);
    const timer = setTimeout(() => resolve('timeout'), 10000);
    frame.addEventListener('load', () => {
      clearTimeout(timer);
      resolve('loaded');
    });
    form.submit();
  });
}

/** In the page: a no-cors POST with a form body (the answer is opaque). */
async function noCorsPostInPage({ url }) {
  try {
    const r = await fetch(url, {
      method: 'POST',
      mode: 'no-cors',
      body: 'a=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    return r.type;
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
}

/** The gateways' cross-origin protection refusals, by path: the logged `reason`. */
function protectionRefusals(gateways) {
  const byPath = new Map();
  for (const g of [gateways.http, gateways.tls]) {
    for (const line of fs.readFileSync(g.logPath, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const v = JSON.parse(line);
        if (v.message === 'cross-origin request refused (403)') byPath.set(v.path, v.reason);
      } catch {}
    }
  }
  return byPath;
}

async function csrfPart({ pp, up, tp, gp, gtp, gateways, httpCfg, checkAvailable }) {
  say(`\n=== cross-origin protection (CSRF): form and no-cors POSTs from Chromium; targets ${CSRF_TARGETS.join(', ')}`);
  const upstreamCounts = async () => JSON.parse((await request(up, 'GET', '/__e2e/counts')).body).inner;
  const towerCounts = async () => JSON.parse((await request(tp, 'GET', '/__e2e/counts')).body).inner;
  const targets = [];
  if (CSRF_TARGETS.includes('gateway')) {
    if (gateways) {
      // Plain http to a name that is not loopback: Chromium sends no Sec-Fetch-Site.
      targets.push({ name: 'gateway (http)', tag: 'gh', base: `http://api.example.test:${gp}`, scheme: 'http', counts: upstreamCounts, logged: true, fetchMetadata: false });
      // https: Chromium sends Sec-Fetch-Site.
      targets.push({ name: 'gateway (tls)', tag: 'gt', base: `https://api.example.test:${gtp}`, scheme: 'https', counts: upstreamCounts, logged: true, fetchMetadata: true });
    } else {
      skip('CSRF part against the gateway', 'corsair serve is not available in this build', 1);
    }
  }
  if (CSRF_TARGETS.includes('tower')) {
    // *.localhost is potentially trustworthy: Chromium sends Sec-Fetch-Site.
    targets.push({ name: 'tower app', tag: 'tw', base: `http://api.localhost:${tp}`, scheme: 'http', counts: towerCounts, logged: false, fetchMetadata: true });
  }
  const rows = [];
  for (const t of targets) {
    const listed = `${t.scheme}://app.example.com:${pp}`;
    const unlisted = `${t.scheme}://evil.example:${pp}`;
    const own = t.base;
    const scenarios = [];
    for (const [who, origin, trusted] of [['unlisted', unlisted, false], ['listed', listed, true], ['same-origin', own, true]]) {
      for (const kind of ['form', 'no-cors']) {
        scenarios.push({ who, origin, kind, path: `/csrf/${t.tag}-${who}-${kind}`, want: trusted });
      }
    }
    scenarios.push({ who: 'unlisted, exempt path', origin: unlisted, kind: 'form', path: '/csrf/oauth/callback', want: true });
    for (const sc of scenarios) {
      const before = await t.counts();
      const page = await context.newPage();
      let outcome;
      try {
        // The same-origin page is one the target serves (the upstream's JSON, through corsair).
        const pageUrl = sc.who === 'same-origin' ? `${own}/csrf/${t.tag}-page` : `${sc.origin}/`;
        await page.goto(pageUrl, { timeout: 30000 });
        const url = t.base + sc.path;
        outcome = sc.kind === 'form'
          ? await page.evaluate(submitFormInPage, { url, fields: { amount: '100', to: 'attacker' } })
          : await page.evaluate(noCorsPostInPage, { url });
      } catch (e) {
        outcome = `error: ${e.message.split('\n')[0]}`;
      } finally {
        await page.close();
      }
      await sleep(100);
      const after = await t.counts();
      const key = `POST ${sc.path}`;
      const reached = (after[key] || 0) - (before[key] || 0);
      rows.push({ t, sc, outcome, reached });
    }
  }
  const refusals = gateways ? protectionRefusals(gateways) : new Map();
  const checkOne = async (r) => {
    if (!checkAvailable) return null;
    const args = ['check', r.t.base + r.sc.path, '--origin', r.sc.origin, '--method', 'POST', '--mode', r.sc.kind === 'form' ? 'navigate' : 'no-cors',
      '--body-type', 'application/x-www-form-urlencoded', '--policy', httpCfg, '--format', 'json'];
    const out = await run(CORSAIR_BIN, args);
    try {
      const j = JSON.parse(out.stdout);
      return { code: out.code, delivered: j.delivered, outcome: j.protection ? j.protection.outcome : null, args };
    } catch {
      return { code: out.code, error: (out.stderr || out.stdout).trim().split('\n')[0], args };
    }
  };
  const checks = await pool(rows, 6, checkOne);
  say(`${'target'.padEnd(16)}${'page'.padEnd(44)}${'POST'.padEnd(30)}${'reached'.padEnd(9)}${'expected'.padEnd(10)}${'gateway reason'.padEnd(22)}corsair check`);
  let agree = 0;
  rows.forEach((r, i) => {
    const problems = [];
    const wantReached = r.sc.want ? 1 : 0;
    if (r.outcome.startsWith('error') || r.outcome === 'timeout' || /Error/.test(r.outcome)) problems.push(`Chromium: ${r.outcome}`);
    if (r.reached !== wantReached) problems.push(`reached the handler ${r.reached}x, expected ${wantReached}x`);
    const logged = r.t.logged ? refusals.get(r.sc.path) || null : undefined;
    const wantReason = r.sc.want ? null : r.t.fetchMetadata ? 'cross_origin_request' : 'origin_host_mismatch';
    if (r.t.logged && logged !== wantReason) problems.push(`the gateway logged ${logged}, expected ${wantReason}`);
    const c = checks[i];
    let checkText = '-';
    if (c) {
      if (c.error) problems.push(`corsair check: exit ${c.code}: ${c.error}`);
      else {
        checkText = `${c.delivered ? 'delivered' : 'refused'} (${c.outcome})`;
        if (c.delivered !== r.sc.want) problems.push(`corsair check predicts ${c.delivered ? 'delivered' : 'refused'}`);
        if (c.code !== (r.sc.want ? 0 : 1)) problems.push(`corsair check exit ${c.code}`);
        if (!r.sc.want && c.outcome !== wantReason) problems.push(`corsair check names ${c.outcome}, expected ${wantReason}`);
      }
    }
    const page = r.sc.who === 'same-origin' ? 'its own origin' : `${r.sc.origin.replace(/:\d+$/, '')} (${r.sc.who})`;
    const reason = logged === undefined ? 'not logged' : logged || '-';
    say(`${r.t.name.padEnd(16)}${page.padEnd(44)}${`${r.sc.kind} ${r.sc.path.startsWith('/csrf/oauth') ? r.sc.path : ''}`.padEnd(30)}${String(r.reached).padEnd(9)}${String(wantReached).padEnd(10)}${reason.padEnd(22)}${checkText}${problems.length ? '   !! DISAGREES' : ''}`);
    if (problems.length) {
      summary.failed++;
      failures.push({ label: `CSRF: ${r.t.name}, ${r.sc.kind} POST to ${r.sc.path} from ${r.sc.origin} (${r.sc.who})${c && c.args ? `\n    command: corsair ${c.args.join(' ')}` : ''}`, problems });
    } else {
      agree++;
      summary.passed++;
    }
  });
  say(`cross-origin protection: Chromium, the handler's counts${gateways ? ', the gateway logs' : ''} and corsair check agree on ${agree} of ${rows.length} cases; ${elapsed()}`);
}

// ---------------------------------------------------------------------------
// Main.

const summary = { passed: 0, failed: 0, skipped: 0 };
const failures = [];
const skips = [];

function skip(what, why, count) {
  banner(`SKIPPED: ${what}: ${why}`);
  skips.push(`${what}: ${why}`);
  summary.skipped += count;
}

async function main() {
  say(`corsair e2e: work dir ${WORK}`);
  for (const [what, p] of [
    ['corsair binary', CORSAIR_BIN],
    ['e2e_app example', E2E_APP_BIN],
    ['chromium', CHROMIUM],
  ]) {
    if (!fs.existsSync(p)) throw new Error(`${what} not found at ${p} (run e2e/run.sh, which builds and installs everything)`);
  }

  // TLS: a self-signed certificate for every name the suite uses.
  const cert = path.join(WORK, 'cert.pem');
  const key = path.join(WORK, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=corsair-e2e',
    '-addext', 'subjectAltName=DNS:localhost,DNS:*.localhost,DNS:*.example.com,DNS:*.example.test,DNS:example.com',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const tls = { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };

  const [pp, pp2, up, tp, gp, gtp, ga, gta] = await freePorts(8);
  const P = { pp, pp2 };
  const policies = makePolicies(P);
  const matrixPolicies = policies.filter((p) => p.matrix !== false);
  const origins = makeOrigins(P);
  say(`ports: pages ${pp},${pp2}  upstream ${up}  tower app ${tp}  gateway http ${gp} (admin ${ga})  gateway tls ${gtp} (admin ${gta})`);

  await pageServer(pp, tls);
  await pageServer(pp2, tls);

  const httpCfg = path.join(WORK, 'gateway-http.toml');
  const tlsCfg = path.join(WORK, 'gateway-tls.toml');
  fs.writeFileSync(httpCfg, configToml({ listen: `127.0.0.1:${gp}`, upstream: `http://127.0.0.1:${up}`, admin: `127.0.0.1:${ga}`, policies }));
  fs.writeFileSync(tlsCfg, configToml({ listen: `127.0.0.1:${gtp}`, upstream: `http://127.0.0.1:${up}`, admin: `127.0.0.1:${gta}`, tls: { cert, key }, policies }));

  // The configs must pass the linter.
  for (const cfg of [httpCfg, tlsCfg]) {
    const v = await run(CORSAIR_BIN, ['validate', cfg]);
    if (v.code !== 0) throw new Error(`corsair validate refused the generated ${path.basename(cfg)}:\n${v.stdout}${v.stderr}`);
  }
  say('corsair validate: both generated configs ok');

  // The recording upstream and the tower app.
  const upstream = startChild('upstream', E2E_APP_BIN, ['--plain', '--listen', `127.0.0.1:${up}`]);
  const towerApp = startChild('tower-app', E2E_APP_BIN, ['--config', httpCfg, '--listen', `127.0.0.1:${tp}`]);
  for (const [c, port] of [[upstream, up], [towerApp, tp]]) {
    const r = await waitReady(c, port);
    if (!r.ok) throw new Error(`${c.name} did not start: ${JSON.stringify(r)}\n${tail(c.logPath)}`);
  }

  // The gateways, if `corsair serve` exists in this build.
  let gateways = null;
  {
    // Each rejection is logged (JSON, `CORS request rejected` with its `reason`):
    // the explain part compares corsair explain's answer with it.
    const rejections = { RUST_LOG: 'warn,corsair::cors=info' };
    const g1 = startChild('gateway-http', CORSAIR_BIN, ['serve', '--config', httpCfg, '--log-format', 'json'], rejections);
    const g2 = startChild('gateway-tls', CORSAIR_BIN, ['serve', '--config', tlsCfg, '--log-format', 'json'], rejections);
    const [r1, r2] = await Promise.all([waitReady(g1, gp), waitReady(g2, gtp)]);
    const log1 = tail(g1.logPath);
    if (!r1.ok && /not available in this build/.test(log1)) {
      gateways = null;
      say(`corsair serve: ${log1.trim()}`);
    } else if (!r1.ok || !r2.ok) {
      throw new Error(`corsair serve did not start:\nhttp: ${JSON.stringify(r1)}\n${log1}\ntls: ${JSON.stringify(r2)}\n${tail(g2.logPath)}`);
    } else {
      gateways = { http: g1, tls: g2 };
      for (const a of [ga, gta]) {
        const until = Date.now() + 5000;
        while (!(await canConnect(a)) && Date.now() < until) await sleep(50);
      }
    }
  }

  // corsair check, if it exists in this build.
  let checkAvailable = false;
  {
    const probe = await run(CORSAIR_BIN, ['check', `http://api.example.test:${gp}/exact/probe`, '--origin', `http://app.example.com:${pp}`, '--policy', httpCfg, '--format', 'json']);
    let parsed = null;
    try {
      parsed = JSON.parse(probe.stdout);
    } catch {}
    if (parsed && typeof parsed.allowed === 'boolean') checkAvailable = true;
    else if (/not available in this build/.test(probe.stderr)) say(`corsair check: ${probe.stderr.trim()}`);
    else throw new Error(`corsair check --format json gave no verdict (exit ${probe.code}):\n${probe.stdout}${probe.stderr}`);
  }

  // Chromium.
  // Playwright gives every launch a fresh, empty profile of its own (a new
  // temporary --user-data-dir), deleted when the browser closes.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic', '--host-resolver-rules=MAP * 127.0.0.1',
      '--ignore-certificate-errors',
    ],
  });
  context = await browser.newContext();
  say(`chromium ${browser.version()} (${CHROMIUM}); ${elapsed()}`);

  // ---- Build the cells.
  let serial = 0;
  const buildCells = (server) => {
    const cells = [];
    for (const p of matrixPolicies) {
      for (const o of origins) {
        for (const m of METHODS) {
          for (const h of HEADER_SETS) {
            for (const cr of CREDENTIALS) {
              const id = ++serial;
              const pathname = `${p.path_prefix}/${server.tag}${id}`;
              const https_ = o.origin.startsWith('https:');
              const url = server.url(https_) + pathname;
              const cell = {
                id, key: `${p.name}|${o.origin}|${m}|${h.id}|${cr}`, policy: p, origin: o.origin, originNote: o.note,
                method: m, headersId: h.id, headers: h.headers, credentials: cr,
                body: m === 'GET' || m === 'DELETE' ? null : BODY, url, pathname,
                checkUrl: (https_ ? `https://api.example.test:${gtp}` : `http://api.example.test:${gp}`) + pathname,
              };
              cell.expect = intent(p, cell, server.protects);
              cells.push(cell);
            }
          }
        }
      }
    }
    return cells;
  };

  const servers = [
    {
      name: 'axum app + corsair-tower CorsLayer',
      tag: 't',
      protects: CSRF_TARGETS.includes('tower'),
      url: () => `http://api.localhost:${tp}`,
      counts: async () => JSON.parse((await request(tp, 'GET', '/__e2e/counts')).body),
      reached: (counts, cell) => counts.inner[`${cell.expect.method} ${cell.pathname}`] || 0,
      // Counted in front of the layer: exactly the preflights Chromium sent.
      preflights: (counts, cell) => counts.seen[`OPTIONS ${cell.pathname}`] || 0,
      // The layer answers preflights: the handler behind it never sees one.
      upstreamPreflights: (counts, cell) => counts.inner[`OPTIONS ${cell.pathname}`] || 0,
    },
  ];
  if (gateways) {
    servers.push({
      name: 'corsair serve (http and, for https origins, [tls])',
      tag: 'g',
      gateway: true,
      protects: true,
      url: (https_) => (https_ ? `https://api.example.test:${gtp}` : `http://api.example.test:${gp}`),
      counts: async () => JSON.parse((await request(up, 'GET', '/__e2e/counts')).body),
      reached: (counts, cell) => counts.inner[`${cell.expect.method} ${cell.pathname}`] || 0,
      // The upstream must never see a preflight: the gateway answers them.
      upstreamPreflights: (counts, cell) => counts.inner[`OPTIONS ${cell.pathname}`] || 0,
    });
  }

  // Chromium's console lines and DevTools CORS issues, recorded for the
  // gateway's cells (the explain part reads them).
  const consoleRecorder = makeConsoleRecorder();

  // corsair check: one prediction per distinct cell (the same for every
  // server), computed while the browser works.
  const serverCells = servers.map((server) => buildCells(server));
  let checksDone = Promise.resolve(new Map());
  if (checkAvailable) {
    const unique = new Map();
    for (const cells of serverCells) for (const c of cells) if (!unique.has(c.key)) unique.set(c.key, c);
    const todo = [...unique.values()];
    const tc = Date.now();
    checksDone = pool(todo, 6, (c) => corsairCheck(c, httpCfg)).then((got) => {
      say(`corsair check: ${todo.length} predictions in ${((Date.now() - tc) / 1000).toFixed(1)}s`);
      return new Map(todo.map((c, i) => [c.key, got[i]]));
    });
  }

  const observed = [];
  for (const [k, server] of servers.entries()) {
    const cells = serverCells[k];
    const t = Date.now();
    const before = server.gateway ? await Promise.all([gatewayPreflights(ga), gatewayPreflights(gta)]) : null;
    const results = await runCellsInBrowser(context, cells, server.gateway ? consoleRecorder : null);
    const seconds = (Date.now() - t) / 1000;
    await sleep(200); // let the last counters settle
    const counts = await server.counts();
    const after = server.gateway ? await Promise.all([gatewayPreflights(ga), gatewayPreflights(gta)]) : null;
    say(`${server.name}: ${cells.length} fetches in ${seconds.toFixed(1)}s; ${elapsed()}`);
    observed.push({ server, cells, results, counts, before, after, seconds });
  }
  const checks = await checksDone;
  say(`\nlegend: ok:rs = allowed, and the script could read X-Request-Id (r) and X-Secret (s) (ok:- = neither);
        NO = blocked (TypeError) and the request never reached the handler behind corsair (the preflight, or cross-origin protection, refused it);
        NO> = blocked (TypeError) although the request reached the handler (no preflight needed, and cross-origin protection let it through; the script cannot read the answer);
        ! = disagreement between Chromium, the policy's intent and corsair check (details at the end);
        columns: request headers none | X-Custom: e2e | Authorization: Bearer … | Content-Type: application/json,
        with credentials 'omit' and 'include'; POST/PUT/put/patch carry a string body (text/plain unless Content-Type is set)`);

  // A blocked fetch is a TypeError whatever failed, a refused preflight or
  // no answer at all: for the gateways (whose preflights the upstream never
  // sees), each blocked cell whose intent is a preflight must show that the
  // gateway answered it: the rejection it logged for that cell's path, or a
  // CORS error Chromium printed for that cell's URL (a 204 the browser's own
  // rules refuse, such as `*` with credentials).
  const gatewayRejected = gateways ? gatewayRejections(gateways) : new Map();
  for (const { server, cells, results, counts, before, after, seconds } of observed) {
    const rows = cells.map((cell) => {
      const b = results.get(cell.id);
      const reachedCount = server.reached(counts, cell);
      const pre = server.preflights ? server.preflights(counts, cell) : undefined;
      const problems = compare(cell, b, checkAvailable ? checks.get(cell.key) : null, reachedCount, pre);
      if (server.upstreamPreflights && server.upstreamPreflights(counts, cell) > 0) problems.push('a preflight reached the handler behind corsair');
      if (server.gateway && cell.expect.preflight && b && !b.ok) {
        const answered = gatewayRejected.has(cell.pathname) || consoleRecorder.messages.has(cell.url);
        if (!answered) problems.push('blocked, but the gateway neither logged a rejected preflight for this path nor did Chromium report a CORS error for it (no answer?)');
      }
      return { server: server.name, cell, browser: b, check: checks.get(cell.key), reached: reachedCount > 0, problems };
    });
    printTable(`${server.name}: ${cells.length} cells, browser ${seconds.toFixed(1)}s`, matrixPolicies, origins, rows);
    for (const r of rows) {
      if (r.problems.length) {
        summary.failed++;
        failures.push(r);
      } else summary.passed++;
    }

    if (server.gateway) {
      // Every preflight the browser sent was answered, and counted, by the
      // gateway it was sent to: http origins -> plain listener, https -> [tls].
      for (const [i, which, isHttps] of [[0, 'http', false], [1, 'tls', true]]) {
        const want = cells.filter((c) => c.expect.preflight && c.origin.startsWith('https:') === isHttps).length;
        const label = `gateway (${which}) /metrics corsair_preflights_total during the matrix`;
        if (before[i] === null || after[i] === null) {
          failures.push({ label, problems: ['no corsair_preflights_total counter in /metrics'] });
          summary.failed++;
        } else if (after[i] - before[i] !== want) {
          failures.push({ label, problems: [`counted ${after[i] - before[i]}, the browser sent ${want}`] });
          summary.failed++;
        } else {
          say(`${label}: ${after[i] - before[i]} (= ${want} sent by the browser)`);
          summary.passed++;
        }
      }
    }
  }
  if (!gateways) skip('corsair serve', 'not available in this build: the gateway half of the matrix, the TLS origins through [tls] and the /metrics preflight counts did not run', matrixPolicies.length * origins.length * METHODS.length * HEADER_SETS.length * CREDENTIALS.length);
  if (!checkAvailable) skip('corsair check', 'not available in this build: no prediction was compared', matrixPolicies.length * origins.length * METHODS.length * HEADER_SETS.length * CREDENTIALS.length);

  // ---- corsair explain on Chromium's own console messages.
  const gatewayRun = observed.find((o) => o.server.gateway);
  if (gatewayRun) await explainPart({ run: gatewayRun, httpCfg, gateways, rec: consoleRecorder });
  else skip('corsair explain', 'needs the gateway half of the matrix (its rejection log is the reference)', 1);

  // ---- Report-only mode.
  if (gateways) await reportOnlyPart({ pp });
  else skip('report-only', 'needs corsair serve', 1);
  // ---- Cross-origin protection (CSRF).
  await csrfPart({ pp, up, tp, gp, gtp, gateways, httpCfg, checkAvailable });

  // ---- Preflight caching.
  say(`matrix done; ${elapsed()}`);
  await cachePhase({ pp, tp, gp, ga, gta, gateways, policies });

  // ---- WebSocket (its own gateways and upstream).
  if (gateways) await websocketPart({ pp, cert, key });
  else skip('WebSocket', 'needs corsair serve', 1);

  // ---- Disagreements.
  if (failures.length) {
    say(`\n=== ${failures.length} disagreement(s)`);
    for (const f of failures.slice(0, 200)) {
      if (f.cell) {
        const c = f.cell;
        say(`- [${f.server}] policy ${c.policy.name}, origin ${c.origin} (${c.originNote}), fetch(${c.url}, {method: ${JSON.stringify(c.method)}, headers: ${JSON.stringify(c.headers)}, credentials: ${c.credentials}${c.body ? ', body: string' : ''}})`);
        say(`    intent: ${c.expect.ok ? 'allowed' : 'blocked'}, preflight ${c.expect.preflight ? 'yes' : 'no'}, reaches upstream ${c.expect.reached ? 'yes' : 'no'}`);
        say(`    browser: ${f.browser ? (f.browser.ok ? `allowed (${f.browser.status}), readable ${JSON.stringify(f.browser.readable)}` : f.browser.error) : '-'}`);
        if (f.check) say(`    corsair check: ${f.check.error || (f.check.allowed ? 'allowed' : 'blocked')}`);
        say(`    corsair check command: corsair ${checkArgs(c, httpCfg).map((a) => (/[\s*;]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
        for (const p of f.problems) say(`    !! ${p}`);
      } else {
        say(`- ${f.label}`);
        for (const p of f.problems) say(`    !! ${p}`);
      }
    }
    if (failures.length > 200) say(`  ... and ${failures.length - 200} more`);
  }
}

// ---------------------------------------------------------------------------
// Report-only (issue 16): a gateway with `mode = "report-only"` in front of a
// service that reflects any origin with credentials. Chromium must see the
// service's own answers (every fetch succeeds, from the allowed origin and
// from one the strict policy would refuse), and the gateway's `GET /report`
// must list exactly the would-be rejections, with their reasons.

async function reportOnlyPart({ pp }) {
  say('\n=== report-only gateway in front of a reflecting service');
  const [up, gp, ga] = await freePorts(3);
  const APP = `http://app.example.com:${pp}`;
  const EVIL = `http://evil.example.com:${pp}`;
  const cfg = path.join(WORK, 'gateway-report-only.toml');
  fs.writeFileSync(cfg, [
    `listen = "127.0.0.1:${gp}"`,
    `upstream = "http://127.0.0.1:${up}"`,
    '[admin]',
    `listen = "127.0.0.1:${ga}"`,
    '[[policy]]',
    'name = "strict"',
    'mode = "report-only"',
    `allow_origins = ["${APP}"]`,
    'allow_methods = ["PUT"]',
    'allow_headers = ["content-type"]',
    'allow_credentials = true',
    'allow_insecure_origins = true',
    '',
  ].join('\n'));
  const upstream = startChild('reflecting-upstream', E2E_APP_BIN, ['--plain', '--reflect', '--listen', `127.0.0.1:${up}`]);
  const gateway = startChild('gateway-report-only', CORSAIR_BIN, ['serve', '--config', cfg, '--log-format', 'json']);
  for (const [c, port] of [[upstream, up], [gateway, gp], [gateway, ga]]) {
    const r = await waitReady(c, port);
    if (!r.ok) throw new Error(`${c.name} did not start: ${JSON.stringify(r)}\n${tail(c.logPath)}`);
  }
  const base = `http://api.example.test:${gp}/api/ro`;
  let id = 900000;
  const cell = (origin, method, headers, note) => ({
    id: ++id, origin, method, headers, credentials: 'include', body: method === 'GET' ? null : '{}', url: `${base}${id}`, note,
  });
  const cells = [
    cell(APP, 'GET', {}, 'allowed origin, GET: the policy agrees with the service'),
    cell(EVIL, 'GET', {}, 'an origin the policy refuses: the service reflects it'),
    cell(EVIL, 'GET', {}, 'the same again (counted, one entry)'),
    cell(EVIL, 'PUT', { 'content-type': 'application/json' }, 'refused origin, preflighted PUT'),
    cell(APP, 'DELETE', {}, 'allowed origin, a method the policy refuses'),
  ];
  const results = await runCellsInBrowser(context, cells);
  const problems = [];
  for (const c of cells) {
    const r = results.get(c.id);
    if (!r || !r.ok) problems.push(`${c.note}: Chromium refused the service's own answer: ${r ? r.error : 'no result'}`);
  }
  const rep = await request(ga, 'GET', '/report');
  let report = null;
  try {
    report = JSON.parse(rep.body);
  } catch {
    problems.push(`GET /report is not JSON (${rep.status}): ${rep.body.slice(0, 200)}`);
  }
  if (report) {
    const entries = report.entries || [];
    const find = (origin, reason, kind) =>
      entries.find((e) => e.origin === origin && e.reason === reason && (!kind || e.example.kind === kind));
    // One entry per (policy, verdict, reason, origin): the refused origin's
    // two GETs and its PUT's preflight are one entry; the PUT itself is one of
    // cross-origin protection's (plain http off loopback: no Sec-Fetch-Site,
    // and its Origin is not the gateway's host), which enforce mode would
    // have refused before the CORS decision.
    const want = [
      [EVIL, 'origin_not_allowed', null, 3],
      [EVIL, 'origin_host_mismatch', 'actual', 1],
      [APP, 'method_not_allowed', 'preflight', 1],
    ];
    for (const [origin, reason, kind, count] of want) {
      const e = find(origin, reason, kind);
      if (!e) problems.push(`no ${kind || ''} ${reason} entry for ${origin} in /report: ${rep.body}`);
      else {
        if (e.verdict !== 'would_reject') problems.push(`${origin} ${reason}: verdict ${e.verdict}, want would_reject`);
        if (e.policy !== 'strict') problems.push(`${origin} ${reason}: policy ${e.policy}`);
        if (e.count < count) problems.push(`${origin} ${reason} ${kind}: count ${e.count}, want at least ${count}`);
      }
    }
    const stray = entries.filter((e) => e.origin === APP && e.example.method === 'GET');
    if (stray.length) problems.push(`the allowed GET was reported: ${JSON.stringify(stray)}`);
  }
  const label = 'report-only: responses untouched in Chromium, would-be rejections in GET /report';
  if (problems.length) {
    failures.push({ label, problems });
    summary.failed++;
  } else {
    say(`${label}: ${cells.length} fetches read the service's own answers; /report lists ${report.entries.length} entries`);
    summary.passed++;
  }
  upstream.kill();
  gateway.kill();
}

async function gatewayPreflights(...adminPorts) {
  let total = 0;
  for (const port of adminPorts) {
    const r = await request(port, 'GET', '/metrics').catch(() => null);
    if (!r || r.status !== 200) return null;
    const n = preflightTotal(r.body);
    if (n === null) return null;
    total += n;
  }
  return total;
}

async function cachePhase({ pp, tp, gp, ga, gta, gateways }) {
  say('\n=== preflight cache: the same PUT + X-Custom twice in a row from http://app.example.com');
  const scenarios = [
    { policy: 'credentialed', prefix: '/creds', maxAge: '600', credentials: 'include', want: 1 },
    { policy: 'no-cache', prefix: '/nocache', maxAge: '0', credentials: 'omit', want: 2 },
    { policy: 'exact', prefix: '/exact', maxAge: 'unset (browser default 5 s)', credentials: 'omit', want: 1 },
  ];
  const page = await context.newPage();
  await page.goto(`http://app.example.com:${pp}/`);
  const targets = [{ name: 'tower app', base: `http://api.localhost:${tp}`, count: async (p) => JSON.parse((await request(tp, 'GET', '/__e2e/counts')).body).seen[`OPTIONS ${p}`] || 0 }];
  if (gateways) {
    targets.push({ name: 'corsair serve', base: `http://api.example.test:${gp}`, before: null, metrics: true });
  } else {
    summary.skipped += scenarios.length;
  }
  say(`${'target'.padEnd(16)}${'policy'.padEnd(14)}${'max_age'.padEnd(30)}${'credentials'.padEnd(13)}${'verdicts'.padEnd(12)}preflights (expected)`);
  for (const t of targets) {
    for (const s of scenarios) {
      const pathname = `${s.prefix}/cache-${t.metrics ? 'g' : 't'}`;
      const before = t.metrics ? await gatewayPreflights(ga, gta) : 0;
      const verdicts = await page.evaluate(
        async ({ url, credentials }) => {
          const out = [];
          for (let i = 0; i < 2; i++) {
            try {
              const r = await fetch(url, { method: 'PUT', headers: { 'X-Custom': 'cache' }, credentials, body: 'x' });
              await r.text();
              out.push('ok');
            } catch (e) {
              out.push(e.name);
            }
          }
          return out;
        },
        { url: t.base + pathname, credentials: s.credentials },
      );
      const got = t.metrics ? (await gatewayPreflights(ga, gta)) - before : await t.count(pathname);
      const good = verdicts.every((v) => v === 'ok') && got === s.want;
      say(`${t.name.padEnd(16)}${s.policy.padEnd(14)}${s.maxAge.padEnd(30)}${s.credentials.padEnd(13)}${verdicts.join(',').padEnd(12)}${Number.isNaN(got) ? 'no counter' : got} (${s.want})${good ? '' : '   !! DISAGREES'}`);
      if (good) summary.passed++;
      else {
        summary.failed++;
        failures.push({ label: `preflight cache on ${t.name}, policy ${s.policy} (max_age ${s.maxAge})`, problems: [`verdicts ${verdicts}, ${got} preflights counted, expected ${s.want}`] });
      }
    }
  }
  await page.close();
}

// ---------------------------------------------------------------------------
// WebSocket part (issue 18): Chromium opens WebSockets through `corsair
// serve` (http, and TLS where Chromium may use HTTP/2, RFC 8441) to a node
// WebSocket echo upstream that counts every handshake it receives. Browsers
// make no CORS check on WebSockets; the gateway's Origin check must refuse an
// unlisted origin before the upstream sees anything, and let a listed one
// (and the page's own origin) exchange messages.

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A minimal RFC 6455 echo upstream: handshakes counted by path, frames echoed. */
async function wsEchoServer(port) {
  const crypto = await import('node:crypto');
  const handshakes = new Map();
  const server = http.createServer((req, res) => {
    // Plain requests: a same-origin page (served through the gateway), or a fetch.
    if (req.url.startsWith('/page')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(PAGE);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
    res.end('pong');
  });
  server.on('upgrade', (req, socket) => {
    const pathname = req.url.split('?')[0];
    handshakes.set(pathname, (handshakes.get(pathname) || 0) + 1);
    const key = req.headers['sec-websocket-key'] || '';
    const accept = crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buf = Buffer.alloc(0);
    const frame = (opcode, payload, fin = true) => {
      const n = payload.length;
      const b0 = (fin ? 0x80 : 0) | opcode;
      const head = n < 126 ? Buffer.from([b0, n]) : n < 65536 ? Buffer.from([b0, 126, n >> 8, n & 255]) : null;
      if (!head) {
        const h = Buffer.alloc(10);
        h[0] = b0;
        h[1] = 127;
        h.writeBigUInt64BE(BigInt(n), 2);
        return Buffer.concat([h, payload]);
      }
      return Buffer.concat([head, payload]);
    };
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2) return;
        const opcode = buf[0] & 0x0f;
        const fin = (buf[0] & 0x80) !== 0;
        const masked = (buf[1] & 0x80) !== 0;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        const maskOff = off;
        if (masked) off += 4;
        if (buf.length < off + len) return;
        const payload = Buffer.from(buf.subarray(off, off + len));
        if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[maskOff + (i % 4)];
        buf = buf.subarray(off + len);
        if (opcode === 0x8) {
          socket.end(frame(0x8, payload));
          return;
        }
        if (opcode === 0x9) socket.write(frame(0xa, payload));
        // Data frames, continuations of a fragmented message included,
        // echoed as they came.
        else if (opcode <= 0x2) socket.write(frame(opcode, payload, fin));
      }
    });
    socket.on('error', () => {});
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  nodeServers.push(server);
  return { handshakes };
}

/** In a page: opens `url`, sends `messages`, collects the echoes, closes. */
async function wsInPage(page, url, messages) {
  return page.evaluate(
    ({ url, messages }) =>
      new Promise((resolve) => {
        const out = { opened: false, echoes: [], error: false, code: null };
        let ws;
        try {
          ws = new WebSocket(url);
        } catch (e) {
          resolve({ ...out, thrown: String(e) });
          return;
        }
        const done = () => resolve(out);
        const timer = setTimeout(() => {
          out.timeout = true;
          done();
        }, 8000);
        ws.onopen = () => {
          out.opened = true;
          for (const m of messages) ws.send(m);
        };
        ws.onmessage = (e) => {
          out.echoes.push(typeof e.data === 'string' ? e.data : `<${e.data.size} bytes>`);
          if (out.echoes.length === messages.length) ws.close(1000, 'done');
        };
        ws.onerror = () => {
          out.error = true;
        };
        ws.onclose = (e) => {
          out.code = e.code;
          clearTimeout(timer);
          done();
        };
      }),
    { url, messages },
  );
}

async function websocketPart({ pp, cert, key }) {
  say('\n=== WebSocket through the gateway (Chromium, no CORS check: the gateway checks Origin)');
  const [up, gp, ga, gtp, gta] = await freePorts(5);
  const echo = await wsEchoServer(up);
  const listed = [`http://app.example.com:${pp}`, `https://app.example.com:${pp}`];
  const policies = [{ name: 'ws', path_prefix: '/ws', allow_origins: listed, allow_credentials: true, allow_methods: ['GET'], allow_insecure_origins: true }];
  const httpCfg = path.join(WORK, 'gateway-ws-http.toml');
  const tlsCfg = path.join(WORK, 'gateway-ws-tls.toml');
  fs.writeFileSync(httpCfg, configToml({ listen: `127.0.0.1:${gp}`, upstream: `http://127.0.0.1:${up}`, admin: `127.0.0.1:${ga}`, policies }));
  fs.writeFileSync(tlsCfg, configToml({ listen: `127.0.0.1:${gtp}`, upstream: `http://127.0.0.1:${up}`, admin: `127.0.0.1:${gta}`, tls: { cert, key }, policies }));
  const env = { RUST_LOG: 'warn,corsair::websocket=info' };
  const g1 = startChild('gateway-ws-http', CORSAIR_BIN, ['serve', '--config', httpCfg, '--log-format', 'json'], env);
  const g2 = startChild('gateway-ws-tls', CORSAIR_BIN, ['serve', '--config', tlsCfg, '--log-format', 'json'], env);
  for (const [g, port] of [[g1, gp], [g2, gtp], [g1, ga], [g2, gta]]) {
    const r = await waitReady(g, port);
    if (!r.ok) throw new Error(`${g.name} did not start: ${JSON.stringify(r)}\n${tail(g.logPath)}`);
  }
  const big = 'x'.repeat(200000);
  const scenarios = [
    { label: 'listed origin, ws://', page: `http://app.example.com:${pp}/`, url: `ws://api.example.test:${gp}/ws/listed`, open: true },
    { label: 'unlisted origin, ws://', page: `http://evil.example.com:${pp}/`, url: `ws://api.example.test:${gp}/ws/unlisted`, open: false, reason: 'websocket_origin_not_allowed' },
    { label: 'listed origin, path no policy covers', page: `http://app.example.com:${pp}/`, url: `ws://api.example.test:${gp}/other/uncovered`, open: false, reason: 'websocket_cross_origin_uncovered' },
    { label: 'the page\'s own origin, uncovered path', page: `http://api.example.test:${gp}/page`, url: `ws://api.example.test:${gp}/other/same`, open: true },
    { label: 'sandboxed page (Origin: null)', page: `http://app.example.com:${pp}/`, url: `ws://api.example.test:${gp}/ws/null`, open: false, reason: 'websocket_null_origin', sandboxed: true },
    { label: 'listed origin, wss:// (TLS, h2 if Chromium uses RFC 8441)', page: `https://app.example.com:${pp}/`, url: `wss://api.example.test:${gtp}/ws/tls`, open: true, warmup: `https://api.example.test:${gtp}/ws/warm` },
    { label: 'unlisted origin, wss://', page: `https://evil.example.com:${pp}/`, url: `wss://api.example.test:${gtp}/ws/tls-unlisted`, open: false, reason: 'websocket_origin_not_allowed' },
  ];
  const page = await context.newPage();
  for (const s of scenarios) {
    await page.goto(s.page);
    const messages = ['hello through corsair', big];
    let got;
    if (s.warmup) {
      // An HTTP/2 connection (ALPN) first: Chromium runs a WebSocket over an
      // existing HTTP/2 connection whose SETTINGS allow the extended CONNECT.
      await page.evaluate(async (u) => (await fetch(u, { credentials: 'include' })).text(), s.warmup).catch(() => {});
    }
    if (s.sandboxed) {
      // A sandboxed iframe (no allow-same-origin) has an opaque origin: `null`.
      got = await page.evaluate(
        (url) => new Promise((r) => {
          window.addEventListener('message', (e) => r({ opened: e.data.opened, code: e.data.code, echoes: [] }), { once: true });
          setTimeout(() => r({ opened: false, timeout: true, echoes: [] }), 8000);
          const f = document.createElement('iframe');
          f.setAttribute('sandbox', 'allow-scripts');
          f.srcdoc = `<script>
            const ws = new WebSocket(${JSON.stringify(url)}); let o = false;
            ws.onopen = () => { o = true; ws.close(); };
            ws.onclose = (e) => parent.postMessage({ opened: o, code: e.code }, '*');
          <\/script>`;
          document.body.appendChild(f);
        }),
        s.url,
      );
    } else {
      got = await wsInPage(page, s.url, messages);
    }
    const pathname = new URL(s.url).pathname;
    await sleep(100);
    const reached = echo.handshakes.get(pathname) || 0;
    const problems = [];
    if (s.open) {
      if (!got.opened) problems.push(`not opened (${JSON.stringify(got)})`);
      else if (got.echoes.length !== messages.length || got.echoes[0] !== messages[0] || got.echoes[1] !== big) problems.push(`echoes of ${got.echoes.map((e) => e.length).join(', ')} characters, sent ${messages.map((m) => m.length).join(', ')}`);
      if (reached !== 1) problems.push(`the upstream counted ${reached} handshakes, expected 1`);
    } else {
      if (got.opened) problems.push('opened: the gateway let an origin it must refuse through');
      if (got.code !== 1006) problems.push(`close code ${got.code}, expected 1006 (the page sees a failed connection)`);
      if (reached !== 0) problems.push(`the upstream saw ${reached} handshake(s): the gateway must refuse before forwarding`);
    }
    say(`${s.label.padEnd(58)} ${got.opened ? `opened, ${got.echoes.length} echoes` : `refused (close ${got.code})`}; upstream handshakes ${reached}${problems.length ? '   !! ' + problems.join('; ') : ''}`);
    if (problems.length) {
      summary.failed++;
      failures.push({ label: `WebSocket: ${s.label}`, problems });
    } else summary.passed++;
  }
  await page.close();

  // The gateways' log: every refusal with its reason; whether Chromium used HTTP/2.
  await sleep(200);
  const lines = [g1, g2].flatMap((g) => fs.readFileSync(g.logPath, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)));
  const refusedReasons = lines.filter((l) => l.message === 'WebSocket handshake refused').map((l) => l.reason).sort();
  const want = scenarios.filter((s) => !s.open).map((s) => s.reason).sort();
  const okLog = JSON.stringify(refusedReasons) === JSON.stringify(want);
  say(`gateway log, refusals: ${refusedReasons.join(', ')}${okLog ? '' : `   !! expected ${want.join(', ')}`}`);
  if (okLog) summary.passed++;
  else {
    summary.failed++;
    failures.push({ label: 'WebSocket: the gateway log of refusals', problems: [`logged ${refusedReasons}, expected ${want}`] });
  }
  const tlsOpened = lines.filter((l) => l.message === 'WebSocket opened' && l.path === '/ws/tls');
  const h2 = tlsOpened.some((l) => l.http2 === true);
  say(`wss:// over the TLS gateway: Chromium used ${h2 ? 'HTTP/2 (RFC 8441 extended CONNECT)' : 'HTTP/1.1 (Upgrade)'} (the gateway advertises SETTINGS_ENABLE_CONNECT_PROTOCOL)`);
  const m = await request(ga, 'GET', '/metrics');
  const refusedCount = (m.body.match(/^corsair_websocket_handshakes_total\{outcome="websocket_[a-z_]+"\} (\d+)$/gm) || []).map((l) => Number(l.split(' ').pop())).reduce((a, b) => a + b, 0);
  const wantHttp = scenarios.filter((s) => !s.open && s.url.startsWith('ws:')).length;
  say(`gateway (http) /metrics corsair_websocket_handshakes_total refusals: ${refusedCount} (= ${wantHttp} refused by the browser scenarios)`);
  if (refusedCount === wantHttp) summary.passed++;
  else {
    summary.failed++;
    failures.push({ label: 'WebSocket: /metrics refusals', problems: [`counted ${refusedCount}, expected ${wantHttp}`] });
  }
}

let exitCode = 0;
try {
  await main();
} catch (e) {
  if (stopping) await new Promise(() => {}); // the signal handler stops everything and exits
  banner(`e2e: aborted: ${e.stack || e}`);
  for (const c of children) say(`--- ${c.name} log (${c.logPath}):\n${tail(c.logPath, 15)}`);
  summary.failed++;
  exitCode = 1;
} finally {
  await shutdown();
}
if (summary.failed) exitCode = 1;
if (REQUIRE_ALL && skips.length) {
  say('E2E_REQUIRE_ALL=1: skipped parts count as failures');
  exitCode = 1;
}
say(`\ncorsair e2e finished in ${elapsed()}${skips.length ? `; SKIPPED: ${skips.join('; ')}` : ''}`);
if (exitCode === 0 && !process.env.E2E_KEEP) fs.rmSync(WORK, { recursive: true, force: true });
else say(`work dir kept: ${WORK}`);
say(`e2e: ${summary.passed} passed, ${summary.failed} failed${summary.skipped ? `, ${summary.skipped} skipped` : ''}`);
process.exit(exitCode);
