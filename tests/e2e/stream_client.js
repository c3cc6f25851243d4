#!/usr/bin/env node
// Posts a body and reads the answer as it arrives, timing each piece: what a browser or an SDK
// without a promptwall-specific client sees of a streamed (SSE) reply. Uses Node's fetch (18+).
//
//   node stream_client.js --url URL --body TEXT [--header NAME:VALUE ...] [--timeout-ms N]
//
// Prints one JSON line: {"status":N,"headers":{...},"body":"...","chunk_ms":[t0,t1,...]} where
// chunk_ms holds the milliseconds since the request started at which each piece was read, or
// {"error":"..."} when no answer came.
'use strict';

function parseArgs(argv) {
  const opts = { url: null, body: null, headers: {}, timeoutMs: 20000 };
  for (let i = 2; i < argv.length; i += 2) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--url': opts.url = value; break;
      case '--body': opts.body = value; break;
      case '--timeout-ms': opts.timeoutMs = Number(value); break;
      case '--header': {
        const colon = value.indexOf(':');
        opts.headers[value.slice(0, colon).trim()] = value.slice(colon + 1).trim();
        break;
      }
      default:
        process.stderr.write(`stream_client: unknown option ${argv[i]}\n`);
        process.exit(2);
    }
  }
  if (!opts.url || opts.body === null) {
    process.stderr.write('usage: stream_client.js --url URL --body TEXT [--header NAME:VALUE ...]\n');
    process.exit(2);
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv);
  const start = Date.now();
  try {
    const res = await fetch(opts.url, {
      method: 'POST', body: opts.body, headers: { 'content-type': 'application/json', ...opts.headers },
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    const decoder = new TextDecoder();
    const chunkMs = [];
    let body = '';
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunkMs.push(Date.now() - start);
      body += decoder.decode(value, { stream: true });
    }
    process.stdout.write(JSON.stringify({
      status: res.status, headers: Object.fromEntries(res.headers.entries()), body, chunk_ms: chunkMs,
    }) + '\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: String(err && err.cause ? err.cause : err) }) + '\n');
    process.exitCode = 1;
  }
}

main();
