#!/usr/bin/env node
// WebSocket load for bench/run-office-bench.sh: CONNS connections to a ChatGPT-web-like WebSocket,
// each sending one text message and waiting for its answer before the next (the fake upstream
// echoes {"echo": message}), for SECONDS. Messages are chatgpt-ws-message.json envelopes (Azure
// Web PubSub's json.webpubsub.azure.v1) whose prompt is the last message's content of each body
// file, so they carry the same prose as the HTTP runs.
//
//   node ws-bench.js --url wss://chatgpt.com/backend-api/ws --ca FILE --envelope FILE
//                    [--proxy http://127.0.0.1:P] [--expect same|redacted] [--conns 4] [--seconds 10]
//                    BODY_FILE...
// --proxy: CONNECT through the forward proxy (intercepted), else straight to the URL.
// --expect same: every echo must equal the message sent; redacted: hold [CCCD-1] and no 12-digit
// number (what promptwall forwarded). Any other answer, close or error ends the run (exit 1).
// Prints one JSON line: {messages, seconds, per_second, p50_ms, p99_ms}.
'use strict';

const fs = require('fs');
const http = require('http');
const tls = require('tls');
const path = require('path');
const WebSocket = require(require.resolve('ws', { paths: [path.join(__dirname, '../../tests/e2e')] }));

function parseArgs(argv) {
  const opts = { conns: 4, seconds: 10, expect: 'same', bodies: [] };
  for (let i = 2; i < argv.length; i++) {
    if (argv[i].startsWith('--')) opts[argv[i].slice(2)] = argv[++i];
    else opts.bodies.push(argv[i]);
  }
  return opts;
}

function connectThroughProxy(proxy, host, port) {
  const p = new URL(proxy);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: p.hostname, port: p.port, method: 'CONNECT', path: `${host}:${port}` });
    req.on('connect', (res, socket) => (res.statusCode === 200 ? resolve(socket) : reject(new Error(`CONNECT answered ${res.statusCode}`))));
    req.on('error', reject);
    req.end();
  });
}

async function open(opts, url) {
  const ca = fs.readFileSync(opts.ca);
  const port = Number(url.port || 443);
  let createConnection;
  if (opts.proxy) {
    const raw = await connectThroughProxy(opts.proxy, url.hostname, port);
    const secure = tls.connect({ socket: raw, servername: url.hostname, ca, ALPNProtocols: ['http/1.1'] });
    await new Promise((resolve, reject) => { secure.once('secureConnect', resolve); secure.once('error', reject); });
    createConnection = () => secure;
  }
  const ws = new WebSocket(url.href, ['json.webpubsub.azure.v1'], {
    ca, createConnection, headers: { Origin: `https://${url.hostname}`, Cookie: '__Secure-next-auth.session-token=bench' },
  });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return ws;
}

function check(expect, sent, answer) {
  const echo = JSON.parse(answer).echo;
  if (expect === 'same' && echo !== sent) throw new Error('an echo differs from the message sent');
  if (expect === 'redacted' && (!echo.includes('[CCCD-1]') || /\d{12}/.test(echo)))
    throw new Error('an echo is not redacted ([CCCD-1], no 12-digit number)');
}

async function main() {
  const opts = parseArgs(process.argv);
  const url = new URL(opts.url);
  const envelope = JSON.parse(fs.readFileSync(opts.envelope, 'utf8'));
  const messages = opts.bodies.map((file) => {
    const chat = JSON.parse(fs.readFileSync(file, 'utf8'));
    const m = structuredClone(envelope);
    m.data.messages[0].content.parts = [chat.messages[chat.messages.length - 1].content];
    return JSON.stringify(m);
  });
  const sockets = await Promise.all(Array.from({ length: Number(opts.conns) }, () => open(opts, url)));
  const latencies = [];
  const deadline = Date.now() + Number(opts.seconds) * 1000;
  const started = process.hrtime.bigint();
  const lane = (ws, offset) => new Promise((resolve, reject) => {
    let i = offset, sentAt = 0n, sent = '';
    const send = () => {
      if (Date.now() >= deadline) { resolve(); return; }
      sent = messages[i++ % messages.length];
      sentAt = process.hrtime.bigint();
      ws.send(sent);
    };
    ws.on('message', (data) => {
      latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
      try { check(opts.expect, sent, data.toString('utf8')); } catch (e) { reject(e); return; }
      send();
    });
    ws.on('close', (code, reason) => reject(new Error(`closed ${code} ${reason}`)));
    ws.on('error', reject);
    send();
  });
  await Promise.all(sockets.map((ws, k) => lane(ws, k)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const ws of sockets) { ws.removeAllListeners('close'); ws.terminate(); }
  latencies.sort((a, b) => a - b);
  const at = (q) => +latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(3);
  console.log(JSON.stringify({ messages: latencies.length, seconds: +seconds.toFixed(3),
                               per_second: +(latencies.length / seconds).toFixed(1), p50_ms: at(0.5), p99_ms: at(0.99) }));
}

main().catch((e) => { console.error(`ws-bench: ${e.message}`); process.exit(1); });
