#!/usr/bin/env node
// A browser-like WebSocket client of an intercepted web app: CONNECT through the forward proxy,
// TLS verified against the organisation CA alone, then the WebSocket handshake (with the app's
// subprotocol, Origin and cookie) and one message at a time, each waiting for its answer or for
// the server's close.
//
//   node ws_client.js --proxy http://127.0.0.1:P --url wss://chatgpt.com/backend-api/ws --ca FILE
//                     --protocol json.webpubsub.azure.v1 --messages FILE
//
// FILE is a JSON array; a string is sent as a TEXT message, {"binary": "..."} as a BINARY one.
// Prints one JSON line: {"protocol", "answers": [..], "close": {"code", "reason"} | null, "error"}.
'use strict';

const fs = require('fs');
const http = require('http');
const tls = require('tls');
const WebSocket = require('ws');

function parseArgs(argv) {
  const opts = {};
  for (let i = 2; i < argv.length; i += 2) opts[argv[i].replace(/^--/, '')] = argv[i + 1];
  return opts;
}

function connectThroughProxy(proxy, host, port) {
  const p = new URL(proxy);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: p.hostname, port: p.port, method: 'CONNECT', path: `${host}:${port}` });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) reject(new Error(`CONNECT answered ${res.statusCode}`));
      else resolve(socket);
    });
    req.on('error', reject);
    req.end();
  });
}

async function main() {
  const opts = parseArgs(process.argv);
  const out = { protocol: null, answers: [], close: null, error: null };
  const url = new URL(opts.url);
  const messages = JSON.parse(fs.readFileSync(opts.messages, 'utf8'));
  try {
    const raw = await connectThroughProxy(opts.proxy, url.hostname, Number(url.port || 443));
    const secure = tls.connect({ socket: raw, servername: url.hostname, ca: fs.readFileSync(opts.ca), ALPNProtocols: ['http/1.1'] });
    await new Promise((resolve, reject) => { secure.once('secureConnect', resolve); secure.once('error', reject); });
    const ws = new WebSocket(opts.url, [opts.protocol], {
      createConnection: () => secure,
      headers: { Origin: `https://${url.hostname}`, Cookie: '__Secure-next-auth.session-token=e2e' },
    });
    const events = [];
    let wake = null;
    const push = (e) => { events.push(e); if (wake) { wake(); wake = null; } };
    const next = () => (events.length ? Promise.resolve(events.shift()) : new Promise((r) => { wake = r; }).then(() => events.shift()));
    ws.on('open', () => push({ type: 'open' }));
    ws.on('message', (data) => push({ type: 'message', data: data.toString('utf8') }));
    ws.on('close', (code, reason) => push({ type: 'close', code, reason: reason.toString('utf8') }));
    ws.on('error', (e) => push({ type: 'error', message: e.message }));
    const first = await next();
    if (first.type !== 'open') throw new Error(`no open: ${JSON.stringify(first)}`);
    out.protocol = ws.protocol;
    for (const m of messages) {
      if (typeof m === 'string') ws.send(m, { binary: false });
      else ws.send(Buffer.from(m.binary, 'utf8'), { binary: true });
      const e = await next();
      if (e.type === 'message') { out.answers.push(e.data); continue; }
      if (e.type === 'close') { out.close = { code: e.code, reason: e.reason }; break; }
      throw new Error(e.message);
    }
    if (!out.close) {
      ws.close(1000);
      const e = await next();
      if (e.type === 'close') out.close = { code: e.code, reason: e.reason };
    }
  } catch (e) {
    out.error = e.message;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

main();
