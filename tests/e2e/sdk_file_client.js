#!/usr/bin/env node
// The official SDKs sending a file inside a JSON request, the way an application attaches one:
// openai (chat `file` part with `file_data`, chat `image_url` data URL, Responses `input_file`),
// @anthropic-ai/sdk (`document` with a text or base64 source, `image`), @google/genai
// (`inlineData`). Pointed at a base URL (the gateway). Prints one JSON line:
//   {"ok":true}                                                    the call succeeded
//   {"ok":false,"status":403,"message":"...","code":...,"error_class":"..."}   the SDK raised
//
//   node sdk_file_client.js --sdk openai|anthropic|genai --shape SHAPE --base-url URL
//                           --file PATH --mime TYPE [--timeout-ms N]
// Shapes: openai: chat-file, chat-image, responses-file; anthropic: document-text (the file read
// as UTF-8 text), document-base64, image; genai: inline-data.
// No retries: a retry would hide what the gateway answered the first time.
// @google/genai is loaded with import(): its CommonJS entry is empty under some Node versions, and
// import() works on Node 18 and 20 alike. Its 1.0 errors carry the status only in the message
// ("got status: 403 Forbidden. {...}"), so the status is read from there.
// Exits 0 when the call succeeded, 1 when the SDK raised an error, 2 on bad usage.
'use strict';

const fs = require('fs');
const path = require('path');

function parseArgs(argv) {
  const opts = { sdk: null, shape: null, baseURL: null, file: null, mime: null, timeoutMs: 20000 };
  for (let i = 2; i < argv.length; i += 2) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--sdk': opts.sdk = value; break;
      case '--shape': opts.shape = value; break;
      case '--base-url': opts.baseURL = value; break;
      case '--file': opts.file = value; break;
      case '--mime': opts.mime = value; break;
      case '--timeout-ms': opts.timeoutMs = Number(value); break;
      default:
        process.stderr.write(`sdk_file_client: unknown option ${argv[i]}\n`);
        process.exit(2);
    }
  }
  if (!opts.sdk || !opts.shape || !opts.baseURL || !opts.file || !opts.mime) {
    process.stderr.write('usage: sdk_file_client.js --sdk S --shape SHAPE --base-url URL --file PATH --mime TYPE\n');
    process.exit(2);
  }
  return opts;
}

const PROMPT = 'Tóm tắt tệp đính kèm';

async function openai(opts, bytes) {
  const OpenAI = require('openai');
  const client = new OpenAI({ baseURL: opts.baseURL, apiKey: 'sk-e2e-test', maxRetries: 0, timeout: opts.timeoutMs });
  const dataUrl = `data:${opts.mime};base64,${bytes.toString('base64')}`;
  const filename = path.basename(opts.file);
  try {
    if (opts.shape === 'chat-file') {
      await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: [
        { type: 'text', text: PROMPT }, { type: 'file', file: { filename, file_data: dataUrl } }] }] });
    } else if (opts.shape === 'chat-image') {
      await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: [
        { type: 'text', text: PROMPT }, { type: 'image_url', image_url: { url: dataUrl } }] }] });
    } else if (opts.shape === 'responses-file') {
      await client.responses.create({ model: 'gpt-4o', input: [{ role: 'user', content: [
        { type: 'input_text', text: PROMPT }, { type: 'input_file', filename, file_data: dataUrl }] }] });
    } else {
      throw new Error(`unknown openai shape ${opts.shape}`);
    }
    return { ok: true };
  } catch (err) {
    if (!(err instanceof OpenAI.APIError)) throw err;
    return { ok: false, status: err.status === undefined ? null : err.status, message: err.message,
             code: err.code === undefined ? null : err.code, error_class: err.constructor.name };
  }
}

async function anthropic(opts, bytes) {
  const Anthropic = require('@anthropic-ai/sdk');
  const client = new Anthropic({ baseURL: opts.baseURL, apiKey: 'sk-ant-e2e-test', maxRetries: 0, timeout: opts.timeoutMs });
  let block;
  if (opts.shape === 'document-text') {
    block = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: bytes.toString('utf8') } };
  } else if (opts.shape === 'document-base64') {
    block = { type: 'document', source: { type: 'base64', media_type: opts.mime, data: bytes.toString('base64') } };
  } else if (opts.shape === 'image') {
    block = { type: 'image', source: { type: 'base64', media_type: opts.mime, data: bytes.toString('base64') } };
  } else {
    throw new Error(`unknown anthropic shape ${opts.shape}`);
  }
  try {
    await client.messages.create({ model: 'claude-3-5-sonnet-latest', max_tokens: 64,
                                   messages: [{ role: 'user', content: [{ type: 'text', text: PROMPT }, block] }] });
    return { ok: true };
  } catch (err) {
    if (!(err instanceof Anthropic.APIError)) throw err;
    return { ok: false, status: err.status === undefined ? null : err.status, message: err.message,
             code: (err.error && err.error.error && err.error.error.type) || null, error_class: err.constructor.name };
  }
}

async function genai(opts, bytes) {
  const { GoogleGenAI } = await import('@google/genai');
  if (opts.shape !== 'inline-data') throw new Error(`unknown genai shape ${opts.shape}`);
  const client = new GoogleGenAI({ apiKey: 'e2e-test-key', httpOptions: { baseUrl: opts.baseURL, timeout: opts.timeoutMs } });
  try {
    await client.models.generateContent({
      model: 'gemini-2.0-flash',
      contents: [{ role: 'user', parts: [{ text: PROMPT }, { inlineData: { mimeType: opts.mime, data: bytes.toString('base64') } }] }],
    });
    return { ok: true };
  } catch (err) {
    const match = /got status: (\d+)/.exec(String(err && err.message));
    if (!match) throw err;
    return { ok: false, status: Number(match[1]), message: err.message, code: null, error_class: err.constructor.name };
  }
}

async function main() {
  const opts = parseArgs(process.argv);
  const bytes = fs.readFileSync(opts.file);
  const run = { openai, anthropic, genai }[opts.sdk];
  if (!run) {
    process.stderr.write(`sdk_file_client: unknown sdk ${opts.sdk}\n`);
    process.exit(2);
  }
  const result = await run(opts, bytes);
  // Exit once the line is written: @google/genai leaves its request timeout's timer running after
  // an answer, which would keep the process alive for the whole timeout.
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(result.ok ? 0 : 1));
}

main();
