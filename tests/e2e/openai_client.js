#!/usr/bin/env node
// The official OpenAI SDK as an application uses it, pointed at a base URL (the gateway or, to
// prove the harness, the fake upstream directly). Prints one JSON line:
//   {"ok":true,"content":"...","chunks":N,"chunk_ms":[t0,t1,...]}   (chunks only with --mode stream)
//   {"ok":false,"status":403,"message":"...","type":"...","code":"..."}   from the SDK's APIError
//
//   node openai_client.js --base-url URL --api-key K --mode chat|stream --prompt TEXT
//                         [--model M] [--timeout-ms N] [--header NAME:VALUE ...]
// chunk_ms holds, for each chunk, the milliseconds since the request started, so a test can tell
// a relayed stream (chunks spread over time) from a buffered one (all at the end).
// Exits 0 when the call succeeded, 1 when the SDK raised an error, 2 on bad usage.
'use strict';

const OpenAI = require('openai');

function parseArgs(argv) {
  const opts = { baseURL: null, apiKey: 'sk-test', mode: 'chat', prompt: null, model: 'gpt-4o-mini', timeoutMs: 20000,
                 headers: {} };
  for (let i = 2; i < argv.length; i += 2) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--base-url': opts.baseURL = value; break;
      case '--api-key': opts.apiKey = value; break;
      case '--mode': opts.mode = value; break;
      case '--prompt': opts.prompt = value; break;
      case '--model': opts.model = value; break;
      case '--timeout-ms': opts.timeoutMs = Number(value); break;
      case '--header': {
        const colon = value.indexOf(':');
        opts.headers[value.slice(0, colon).trim()] = value.slice(colon + 1).trim();
        break;
      }
      default:
        process.stderr.write(`openai_client: unknown option ${argv[i]}\n`);
        process.exit(2);
    }
  }
  if (!opts.baseURL || opts.prompt === null || !['chat', 'stream'].includes(opts.mode)) {
    process.stderr.write('usage: openai_client.js --base-url URL --api-key K --mode chat|stream --prompt TEXT\n');
    process.exit(2);
  }
  return opts;
}

async function run(opts) {
  // Retries would hide what the gateway answered the first time.
  const client = new OpenAI({ baseURL: opts.baseURL, apiKey: opts.apiKey, maxRetries: 0, timeout: opts.timeoutMs,
                              defaultHeaders: opts.headers });
  const request = { model: opts.model, messages: [{ role: 'user', content: opts.prompt }] };
  const start = Date.now();
  if (opts.mode === 'chat') {
    const completion = await client.chat.completions.create(request);
    return { ok: true, content: completion.choices[0].message.content };
  }
  const stream = await client.chat.completions.create({ ...request, stream: true });
  let content = '';
  const chunkMs = [];
  for await (const chunk of stream) {
    chunkMs.push(Date.now() - start);
    content += (chunk.choices[0] && chunk.choices[0].delta && chunk.choices[0].delta.content) || '';
  }
  return { ok: true, content, chunks: chunkMs.length, chunk_ms: chunkMs };
}

async function main() {
  const opts = parseArgs(process.argv);
  try {
    process.stdout.write(JSON.stringify(await run(opts)) + '\n');
  } catch (err) {
    if (!(err instanceof OpenAI.APIError)) throw err;
    // Connection errors are APIErrors too, with no status.
    process.stdout.write(JSON.stringify({
      ok: false, status: err.status === undefined ? null : err.status, message: err.message,
      type: err.type === undefined ? null : err.type, code: err.code === undefined ? null : err.code,
      error_class: err.constructor.name,
    }) + '\n');
    process.exitCode = 1;
  }
}

main();
