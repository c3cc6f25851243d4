#!/usr/bin/env node
// The coaching step (issue 16) as a person using an official SDK meets it: the first call raises
// the gateway's coaching answer (the SDK's own error, its message read as the user reads it); the
// same call is then made again with the token that message gave and a reason, as the message says.
//
//   node coaching_client.js --sdk openai|anthropic|gemini --base-url URL --prompt TEXT
//        [--reason TEXT] [--resend] [--replay] [--edited-prompt TEXT] [--token TEXT]
//        [--header NAME:VALUE ...]   (sent with every call: an SSO front's identity headers)
// --resend: call again with X-Promptwall-Justification-Token (the token from the first message,
//   or --token) and X-Promptwall-Justification (--reason, percent-encoded as the message allows:
//   fetch takes only Latin-1 header values); --edited-prompt: the resend carries this prompt
//   instead; --replay: after the resend, the very same resend once more.
// Prints one JSON line: {"first":R,"token":"pwj1...."|null,"second":R,"third":R}, each R
//   {"ok":true,"content":"..."} or {"ok":false,"status":N,"message":"...","error_class":"..."}.
// No retries: a retry would hide what the gateway answered. Exits 0, or 2 on bad usage.
'use strict';

function parseArgs(argv) {
  const opts = { sdk: null, baseURL: null, prompt: null, reason: null, resend: false, replay: false, edited: null,
                 token: null, timeoutMs: 20000, headers: {} };
  for (let i = 2; i < argv.length; ++i) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--sdk': opts.sdk = value; ++i; break;
      case '--base-url': opts.baseURL = value; ++i; break;
      case '--prompt': opts.prompt = value; ++i; break;
      case '--reason': opts.reason = value; ++i; break;
      case '--edited-prompt': opts.edited = value; ++i; break;
      case '--token': opts.token = value; ++i; break;
      case '--header': {
        const colon = value.indexOf(':');
        opts.headers[value.slice(0, colon).trim()] = value.slice(colon + 1).trim();
        ++i;
        break;
      }
      case '--resend': opts.resend = true; break;
      case '--replay': opts.replay = true; break;
      default:
        process.stderr.write(`coaching_client: unknown option ${argv[i]}\n`);
        process.exit(2);
    }
  }
  if (!['openai', 'anthropic', 'gemini'].includes(opts.sdk) || !opts.baseURL || opts.prompt === null) {
    process.stderr.write('usage: coaching_client.js --sdk openai|anthropic|gemini --base-url URL --prompt TEXT\n');
    process.exit(2);
  }
  return opts;
}

// One call through the SDK with `headers` as the client's default headers.
async function call(opts, prompt, headers) {
  try {
    if (opts.sdk === 'openai') {
      const OpenAI = require('openai');
      const client = new OpenAI({ baseURL: opts.baseURL, apiKey: 'sk-e2e-test', maxRetries: 0, timeout: opts.timeoutMs,
                                  defaultHeaders: headers });
      const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] });
      return { ok: true, content: r.choices[0].message.content };
    }
    if (opts.sdk === 'anthropic') {
      const Anthropic = require('@anthropic-ai/sdk');
      const client = new Anthropic({ baseURL: opts.baseURL, apiKey: 'sk-ant-e2e-test', maxRetries: 0,
                                     timeout: opts.timeoutMs, defaultHeaders: headers });
      const r = await client.messages.create({ model: 'claude-x', max_tokens: 16,
                                               messages: [{ role: 'user', content: prompt }] });
      return { ok: true, content: r.content.map((b) => b.text || '').join('') };
    }
    const { GoogleGenAI } = await import('@google/genai');
    const client = new GoogleGenAI({ apiKey: 'e2e-test-key',
                                     httpOptions: { baseUrl: opts.baseURL, timeout: opts.timeoutMs, headers } });
    const r = await client.models.generateContent({ model: 'gemini-2.0-flash',
                                                    contents: [{ role: 'user', parts: [{ text: prompt }] }] });
    return { ok: true, content: r.text };
  } catch (err) {
    // openai and Anthropic: APIError with .status; @google/genai 1.0: the status only in the message.
    let status = err && err.status !== undefined ? err.status : null;
    if (status === null) {
      const match = /got status: (\d+)/.exec(String(err && err.message));
      if (!match) throw err;
      status = Number(match[1]);
    }
    return { ok: false, status, message: String(err.message), error_class: err.constructor.name };
  }
}

async function main() {
  const opts = parseArgs(process.argv);
  const out = { first: await call(opts, opts.prompt, { ...opts.headers }) };
  const found = /X-Promptwall-Justification-Token: (pwj1\.[A-Za-z0-9_-]+)/.exec(out.first.message || '');
  out.token = found ? found[1] : null;
  const token = opts.token !== null ? opts.token : out.token;
  if (opts.resend && token) {
    const headers = { ...opts.headers, 'X-Promptwall-Justification-Token': token };
    if (opts.reason !== null) headers['X-Promptwall-Justification'] = encodeURIComponent(opts.reason);
    const prompt = opts.edited !== null ? opts.edited : opts.prompt;
    out.second = await call(opts, prompt, headers);
    if (opts.replay) out.third = await call(opts, prompt, headers);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ harness_error: String(err && err.stack) }) + '\n');
  process.exitCode = 1;
});
