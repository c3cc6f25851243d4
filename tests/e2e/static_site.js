#!/usr/bin/env node
// A plain web site for the transparent-mode test (not an AI service): serves the files of a
// directory over HTTP and HTTPS, and listens for UDP datagrams (QUIC stand-ins), recording all of it.
//
//   node static_site.js --host H --root DIR --record FILE [--http-port 80] [--https-port 443
//        --tls-cert C --tls-key K] [--udp ADDR:PORT ...] [--etag]
//
// Prints {"ready":true} once every listener is up. Each HTTP request becomes one JSON line in FILE
// ({"kind":"http","tls":..,"method","url","raw_headers":[name, value, ...]}, headers exactly as
// received, in order and case), each datagram {"kind":"udp","to":"ADDR:PORT","bytes":N}.
// --etag: files are served with an ETag (their SHA-256) and a request whose If-None-Match names it
// gets 304 (the rule bundle test's conditional GET); the record then says "status":304.
// No dependencies: runs on Node 18 and 20.
'use strict';

const fs = require('fs');
const path = require('path');
const http = require('http');
const https = require('https');
const dgram = require('dgram');
const crypto = require('crypto');

function parseArgs(argv) {
  const opts = { host: '127.0.0.1', root: null, record: null, httpPort: 0, httpsPort: 0, tlsCert: null, tlsKey: null, udp: [], etag: false };
  for (let i = 2; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (argv[i] === '--etag') {
      opts.etag = true;
      i -= 1;  // a flag: no value
      continue;
    }
    switch (argv[i]) {
      case '--host': opts.host = value; break;
      case '--root': opts.root = value; break;
      case '--record': opts.record = value; break;
      case '--http-port': opts.httpPort = Number(value); break;
      case '--https-port': opts.httpsPort = Number(value); break;
      case '--tls-cert': opts.tlsCert = value; break;
      case '--tls-key': opts.tlsKey = value; break;
      case '--udp': opts.udp.push(value); break;
      default:
        process.stderr.write(`static_site: unknown option ${argv[i]}\n`);
        process.exit(2);
    }
  }
  if (!opts.root || !opts.record) {
    process.stderr.write('usage: static_site.js --host H --root DIR --record FILE [...]\n');
    process.exit(2);
  }
  return opts;
}

function main() {
  const opts = parseArgs(process.argv);
  const record = (value) => fs.appendFileSync(opts.record, JSON.stringify(value) + '\n');
  const handler = (tls) => (req, res) => {
    const file = path.join(opts.root, path.normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    const found = file.startsWith(opts.root) && fs.existsSync(file) && fs.statSync(file).isFile();
    const body = found ? fs.readFileSync(file) : null;
    const etag = found && opts.etag ? '"' + crypto.createHash('sha256').update(body).digest('hex') + '"' : null;
    const status = !found ? 404 : etag && req.headers['if-none-match'] === etag ? 304 : 200;
    record({ kind: 'http', tls, method: req.method, url: req.url, raw_headers: req.rawHeaders, ...(opts.etag ? { status } : {}) });
    if (status === 304) {
      res.writeHead(304, { etag });
      res.end();
      return;
    }
    if (!found) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, ...(etag ? { etag } : {}) });
    res.end(body);
  };
  const waiting = [];
  const listening = (server, port) =>
    new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, opts.host, resolve); });
  if (opts.httpPort) waiting.push(listening(http.createServer(handler(false)), opts.httpPort));
  if (opts.httpsPort) {
    const server = https.createServer({ cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) }, handler(true));
    waiting.push(listening(server, opts.httpsPort));
  }
  for (const spec of opts.udp) {
    const colon = spec.lastIndexOf(':');
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg) => record({ kind: 'udp', to: spec, bytes: msg.length }));
    waiting.push(new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(Number(spec.slice(colon + 1)), spec.slice(0, colon), resolve);
    }));
  }
  Promise.all(waiting).then(
    () => process.stdout.write(JSON.stringify({ ready: true }) + '\n'),
    (err) => { process.stderr.write(`static_site: ${err.message}\n`); process.exit(1); });
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}

main();
