#!/usr/bin/env node
// The cost of verifying a proxy password, for bench/run-office-bench.sh: plain-HTTP requests in
// absolute form to the forward proxy, each user's password sent as Proxy-Authorization: Basic.
//
//   node auth-cost.js PROXY_URL HOST USERS BODY_FILE [PAIRS=10] [CONCURRENCY=8]
//
// USERS holds "name:password" lines, every one unused so far (nothing cached). Two measurements:
//  1. first vs cached: for each of the first PAIRS users, one request alone (a verification on the
//     pool) and then the same credentials again (answered from the cache); medians of both.
//  2. pool rate: every remaining user's first request, CONCURRENCY at a time over keep-alive
//     connections, so the pool always has work queued: verifications per second.
// Every answer must be 200 (a 407 means a verification failed): any other ends the run.
// Prints one JSON line: {first_ms, cached_ms, pairs, verifications, seconds, per_second}.
'use strict';

const fs = require('fs');
const http = require('http');

const [proxyUrl, host, usersFile, bodyFile, pairsText = '10', concurrencyText = '8'] = process.argv.slice(2);
if (!bodyFile) {
  console.error('usage: node auth-cost.js PROXY_URL HOST USERS BODY_FILE [PAIRS] [CONCURRENCY]');
  process.exit(2);
}
const proxy = new URL(proxyUrl);
const users = fs.readFileSync(usersFile, 'utf8').split('\n').filter(Boolean);
const body = fs.readFileSync(bodyFile);
const pairs = Number(pairsText), concurrency = Number(concurrencyText);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

// One request as `credentials`; resolves with its time in ms.
function post(credentials) {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.request({
      agent, host: proxy.hostname, port: proxy.port, method: 'POST', path: `http://${host}/v1/chat/completions`,
      headers: {
        Host: host, 'Content-Type': 'application/json', 'Content-Length': body.length,
        'Proxy-Authorization': 'Basic ' + Buffer.from(credentials).toString('base64'),
      },
    }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode} for ${credentials.split(':')[0]}`));
        else resolve(Number(process.hrtime.bigint() - started) / 1e6);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function main() {
  if (users.length <= pairs) throw new Error(`need more than ${pairs} users`);
  await post(users[0]);  // opens a connection, so the first pair does not pay for it
  const first = [], cached = [];
  for (const user of users.slice(1, pairs + 1)) {
    first.push(await post(user));
    cached.push(await post(user));
  }
  const rest = users.slice(pairs + 1);
  let next = 0;
  const started = process.hrtime.bigint();
  const lane = async () => { while (next < rest.length) await post(rest[next++]); };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({
    first_ms: +median(first).toFixed(3), cached_ms: +median(cached).toFixed(3), pairs,
    verifications: rest.length, seconds: +seconds.toFixed(3), per_second: +(rest.length / seconds).toFixed(1),
  }));
  agent.destroy();
}

main().catch((e) => { console.error(`auth-cost: ${e.message}`); process.exit(1); });
