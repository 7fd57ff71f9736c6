// Drives Swagger UI in headless Chromium over the DevTools protocol, as a person would: open /swagger, run
// "GET /v1/models" with "Try it out" (no key yet), press Authorize, type the key, run it again. Prints one JSON
// object: both statuses, the Authorization header the page really sent, and every Content-Security-Policy
// violation, uncaught exception and console error the page produced.
//
// usage: node swagger-authorize.mjs <chromium> <base url> <api key>
// The protocol runs over --remote-debugging-pipe (JSON messages ended by NUL on file descriptors 3 and 4), so any
// Node version works and no WebSocket client is needed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [chromiumPath, baseUrl, apiKey] = process.argv.slice(2);
if (!chromiumPath || !baseUrl || !apiKey) {
  console.error('usage: swagger-authorize.mjs <chromium> <base url> <api key>');
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), 'mmserve-chromium-'));
const browser = spawn(chromiumPath, [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
  '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
const deadline = setTimeout(() => fail('timed out after 60 s'), 60_000);
let browserLog = '';
browser.stderr.on('data', chunk => { browserLog += chunk; });
browser.on('exit', code => fail(`chromium exited with ${code}: ${browserLog.slice(-2000)}`));

const report = { authorizeButton: false, statusWithoutKey: null, statusWithKey: null, authorizationSent: null,
  cspViolations: [], exceptions: [], consoleErrors: [] };

function fail(message) {
  console.error(message);
  console.log(JSON.stringify(report));
  cleanup(1);
}

function cleanup(code) {
  clearTimeout(deadline);
  browser.removeAllListeners('exit');
  browser.kill('SIGKILL');
  try { rmSync(profile, { recursive: true, force: true }); } catch { /* best effort */ }
  process.exit(code);
}

const toBrowser = browser.stdio[3];
const fromBrowser = browser.stdio[4];
let nextId = 1;
const pending = new Map();
const listeners = [];
let buffered = '';
fromBrowser.setEncoding('utf8');
fromBrowser.on('data', chunk => {
  buffered += chunk;
  let end;
  while ((end = buffered.indexOf('\0')) >= 0) {
    const message = JSON.parse(buffered.slice(0, end));
    buffered = buffered.slice(end + 1);
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      message.error ? reject(new Error(JSON.stringify(message.error))) : resolve(message.result);
    } else if (message.method) {
      listeners.forEach(listener => listener(message));
    }
  }
});

function send(method, params = {}, sessionId = undefined) {
  const id = nextId++;
  toBrowser.write(JSON.stringify({ id, method, params, sessionId }) + '\0');
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
const page = (method, params) => send(method, params, sessionId);

listeners.push(({ method, params, sessionId: from }) => {
  if (from !== sessionId) return;
  if (method === 'Log.entryAdded') {
    const { entry } = params;
    if (/Content.Security.Policy/i.test(entry.text) || entry.source === 'security') report.cspViolations.push(entry.text);
    else if (entry.level === 'error' && entry.source !== 'network') report.consoleErrors.push(entry.text);
  } else if (method === 'Runtime.exceptionThrown') {
    report.exceptions.push(params.exceptionDetails.exception?.description ?? params.exceptionDetails.text);
  } else if (method === 'Runtime.consoleAPICalled' && params.type === 'error') {
    report.consoleErrors.push(params.args.map(a => a.value ?? a.description).join(' '));
  } else if (method === 'Network.requestWillBeSent' && params.request.url.endsWith('/v1/models')) {
    const headers = params.request.headers;
    const authorization = headers.Authorization ?? headers.authorization;
    if (authorization) report.authorizationSent = authorization;
  }
});
await page('Log.enable');
await page('Runtime.enable');
await page('Network.enable');
await page('Page.enable');
await page('Page.navigate', { url: new URL('swagger/index.html', baseUrl).href });

async function evaluate(expression) {
  const { result, exceptionDetails } = await page('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
  if (exceptionDetails) throw new Error(`${expression}: ${exceptionDetails.text}`);
  return result.value;
}

async function waitFor(expression, what) {
  for (let i = 0; i < 200; i++) {
    const value = await evaluate(expression);
    if (value) return value;
    await new Promise(r => setTimeout(r, 100));
  }
  fail(`gave up waiting for ${what}`);
}

const click = async (selector) => {
  await waitFor(`!!document.querySelector(${JSON.stringify(selector)})`, selector);
  await evaluate(`document.querySelector(${JSON.stringify(selector)}).click()`);
};

const operation = '#operations-Models-ListModels';
const status = `${operation} .live-responses-table .response .response-col_status`;

report.authorizeButton = !!(await waitFor(`!!document.querySelector('button.btn.authorize')`, 'the Authorize button'));

// 1. "Try it out" without a key.
await click(`${operation} .opblock-summary-control`);
await click(`${operation} .try-out__btn`);
await click(`${operation} button.execute`);
report.statusWithoutKey = parseInt(await waitFor(`document.querySelector(${JSON.stringify(status)})?.textContent.trim()`, 'the first response'));

// 2. Authorize: type the key into the dialog as a person would (React reads real input events).
await click('button.btn.authorize');
await waitFor(`!!document.querySelector('.modal-ux input')`, 'the key input');
await evaluate(`document.querySelector('.modal-ux input').focus()`);
await page('Input.insertText', { text: apiKey });
await click('.modal-ux .auth-btn-wrapper button.authorize');
await click('.modal-ux button.btn-done, .modal-ux button.close-modal');

// 3. The same call again, now with the key.
await click(`${operation} button.btn-clear`);
await waitFor(`!document.querySelector(${JSON.stringify(status)})`, 'the old response to clear');
await click(`${operation} button.execute`);
report.statusWithKey = parseInt(await waitFor(`document.querySelector(${JSON.stringify(status)})?.textContent.trim()`, 'the second response'));

console.log(JSON.stringify(report));
cleanup(0);
