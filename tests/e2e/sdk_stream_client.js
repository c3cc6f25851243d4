#!/usr/bin/env node
// The official SDKs streaming a reply, as an application reads it: openai (chat.completions
// stream, text or tool-call arguments), @anthropic-ai/sdk (messages.stream: text and tool input
// JSON), @google/genai (generateContentStream, alt=sse). Prints one JSON line:
//   {"ok":true,"text":"<the text deltas joined>","arguments":"<tool-call arguments joined>"}
//   {"ok":false,"status":N,"message":"..."}   when the SDK raised
//
//   node sdk_stream_client.js --sdk openai|anthropic|genai --base-url URL --prompt TEXT
//                             [--header NAME:VALUE ...] [--timeout-ms N]
// Exits 0 when the call succeeded, 1 when the SDK raised an error, 2 on bad usage.
'use strict';

function parseArgs(argv) {
  const opts = { sdk: null, baseURL: null, prompt: null, headers: {}, timeoutMs: 20000 };
  for (let i = 2; i < argv.length; i += 2) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--sdk': opts.sdk = value; break;
      case '--base-url': opts.baseURL = value; break;
      case '--prompt': opts.prompt = value; break;
      case '--timeout-ms': opts.timeoutMs = Number(value); break;
      case '--header': {
        const colon = value.indexOf(':');
        opts.headers[value.slice(0, colon).trim()] = value.slice(colon + 1).trim();
        break;
      }
      default:
        process.stderr.write(`sdk_stream_client: unknown option ${argv[i]}\n`);
        process.exit(2);
    }
  }
  if (!opts.sdk || !opts.baseURL || opts.prompt === null) {
    process.stderr.write('usage: sdk_stream_client.js --sdk openai|anthropic|genai --base-url URL --prompt TEXT\n');
    process.exit(2);
  }
  return opts;
}

async function openai(opts) {
  const OpenAI = require('openai');
  const client = new OpenAI({ baseURL: opts.baseURL, apiKey: 'sk-e2e-test', maxRetries: 0, timeout: opts.timeoutMs,
                              defaultHeaders: opts.headers });
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: opts.prompt }],
  });
  let text = '';
  let args = '';
  for await (const chunk of stream) {
    const delta = chunk.choices[0] && chunk.choices[0].delta;
    if (!delta) continue;
    if (delta.content) text += delta.content;
    for (const call of delta.tool_calls || []) if (call.function && call.function.arguments) args += call.function.arguments;
  }
  return { ok: true, text, arguments: args };
}

async function anthropic(opts) {
  const Anthropic = require('@anthropic-ai/sdk');
  const client = new Anthropic({ baseURL: opts.baseURL, apiKey: 'sk-ant-e2e-test', maxRetries: 0, timeout: opts.timeoutMs,
                                 defaultHeaders: opts.headers });
  const stream = client.messages.stream({
    model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: opts.prompt }],
  });
  let text = '';
  let args = '';
  stream.on('text', (t) => { text += t; });
  stream.on('inputJson', (partial) => { args += partial; });
  await stream.finalMessage();
  return { ok: true, text, arguments: args };
}

async function genai(opts) {
  const { GoogleGenAI } = await import('@google/genai');
  const client = new GoogleGenAI({ apiKey: 'e2e-test-key',
                                   httpOptions: { baseUrl: opts.baseURL, timeout: opts.timeoutMs, headers: opts.headers } });
  const stream = await client.models.generateContentStream({
    model: 'gemini-2.0-flash', contents: [{ role: 'user', parts: [{ text: opts.prompt }] }],
  });
  let text = '';
  for await (const chunk of stream) text += chunk.text || '';
  return { ok: true, text, arguments: '' };
}

async function main() {
  const opts = parseArgs(process.argv);
  const run = { openai, anthropic, genai }[opts.sdk];
  if (!run) {
    process.stderr.write(`sdk_stream_client: unknown sdk ${opts.sdk}\n`);
    process.exit(2);
  }
  let result;
  try {
    result = await run(opts);
  } catch (err) {
    const match = /got status: (\d+)/.exec(String(err && err.message));
    result = { ok: false, status: err && err.status ? err.status : match ? Number(match[1]) : 0, message: String(err && err.message) };
  }
  // Exit once the line is written: @google/genai leaves its request timeout's timer running.
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(result.ok ? 0 : 1));
}

main();
