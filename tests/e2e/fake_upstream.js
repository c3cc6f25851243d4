#!/usr/bin/env node
// A fake AI upstream for the end-to-end tests: answers OpenAI, Gemini and Anthropic requests
// with minimal valid shapes and records every request it receives, so a test can assert what
// the gateway forwarded (redacted, untouched, or nothing at all).
//
//   node fake_upstream.js --port 0 --record FILE [--tls-cert C --tls-key K] [--host H]
//
// Prints {"port":N} as its first stdout line once listening. Each request becomes one JSON line in
// FILE (method, url, headers, body as UTF-8, body_base64), written synchronously before the
// response starts, so a client that has its answer can read the record at once.
// Request headers that steer it: x-fake-delay-ms: N (wait before answering), x-fake-status: N.
// The web apps: chatgpt.com's conversation request (SSE when it accepts text/event-stream) and
// gemini.google.com's StreamGenerate; a WebSocket upgrade on any path is accepted (the first
// offered subprotocol chosen), recorded as method UPGRADE, and each message recorded as method
// WEBSOCKET and echoed back as {"echo": text}.
// Runs on Node 18 and 20; only WebSockets need a package (`ws`, loaded on the first upgrade).
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');

function parseArgs(argv) {
  const opts = { port: 0, host: '127.0.0.1', record: null, tlsCert: null, tlsKey: null };
  for (let i = 2; i < argv.length; i += 2) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--port': opts.port = Number(value); break;
      case '--host': opts.host = value; break;
      case '--record': opts.record = value; break;
      case '--tls-cert': opts.tlsCert = value; break;
      case '--tls-key': opts.tlsKey = value; break;
      default:
        process.stderr.write(`fake_upstream: unknown option ${argv[i]}\n`);
        process.exit(2);
    }
  }
  if (!opts.record || Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) {
    process.stderr.write('usage: fake_upstream.js --port N --record FILE [--tls-cert C --tls-key K]\n');
    process.exit(2);
  }
  return opts;
}

const now = () => Math.floor(Date.now() / 1000);

function chatCompletion(model) {
  return {
    id: 'chatcmpl-fake', object: 'chat.completion', created: now(), model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  };
}

function chatChunk(model, i, last) {
  return {
    id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: now(), model,
    choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: `c${i}` } : { content: `c${i}` },
                logprobs: null, finish_reason: last ? 'stop' : null }],
  };
}

function responsesObject(model) {
  return {
    id: 'resp_fake', object: 'response', created_at: now(), status: 'completed', model,
    output: [{ type: 'message', id: 'msg_fake', status: 'completed', role: 'assistant',
               content: [{ type: 'output_text', text: 'ok', annotations: [] }] }],
    usage: { input_tokens: 5, output_tokens: 1, total_tokens: 6 },
  };
}

function embeddings(model) {
  return {
    object: 'list', model,
    data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }],
    usage: { prompt_tokens: 5, total_tokens: 5 },
  };
}

function legacyCompletion(model) {
  return {
    id: 'cmpl-fake', object: 'text_completion', created: now(), model,
    choices: [{ text: 'ok', index: 0, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  };
}

function geminiResponse(text) {
  return {
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 1, totalTokenCount: 6 },
  };
}

function anthropicMessage(model) {
  return {
    id: 'msg_fake', type: 'message', role: 'assistant', model,
    content: [{ type: 'text', text: 'ok' }],
    stop_reason: 'end_turn', stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 1 },
  };
}

function anthropicEvents(model) {
  return [
    ['message_start', { type: 'message_start', message: { ...anthropicMessage(model), content: [], stop_reason: null } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'c0' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'c1' } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2 } }],
    ['message_stop', { type: 'message_stop' }],
  ];
}

const STREAM_EVENTS = 5;
const STREAM_INTERVAL_MS = 100;

// Writes each event with its own res.write, STREAM_INTERVAL_MS apart, so the gateway sees a
// really streamed body and a test can tell whether it relayed the events as they came.
function streamEvents(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (i === events.length) { res.end(); return; }
    res.write(events[i++]);
    setTimeout(next, STREAM_INTERVAL_MS);
  };
  next();
}

function sendJson(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function parseJson(text) {
  try { return JSON.parse(text); } catch { return null; }
}

function answer(req, res, bodyText) {
  const forced = Number(req.headers['x-fake-status'] || 0);
  if (forced) {
    sendJson(res, forced, { error: { message: `fake upstream status ${forced}`, type: 'fake_status', code: null } });
    return;
  }
  const url = new URL(req.url, 'http://upstream');
  const path = url.pathname;
  const body = parseJson(bodyText) || {};
  const model = typeof body.model === 'string' ? body.model : 'fake-model';
  const post = req.method === 'POST';

  if (post && path.endsWith('/chat/completions')) {
    if (body.stream === true) {
      const events = [];
      for (let i = 0; i < STREAM_EVENTS; i++) events.push(`data: ${JSON.stringify(chatChunk(model, i, i === STREAM_EVENTS - 1))}\n\n`);
      events.push('data: [DONE]\n\n');
      streamEvents(res, events);
    } else {
      sendJson(res, 200, chatCompletion(model));
    }
  } else if (post && path.endsWith('/responses')) {
    sendJson(res, 200, responsesObject(model));
  } else if (post && path.endsWith('/embeddings')) {
    sendJson(res, 200, embeddings(model));
  } else if (post && path.endsWith('/completions')) {
    sendJson(res, 200, legacyCompletion(model));
  } else if (post && path.endsWith(':streamGenerateContent')) {
    const events = [];
    for (let i = 0; i < STREAM_EVENTS; i++) events.push(`data: ${JSON.stringify(geminiResponse(`c${i}`))}\r\n\r\n`);
    streamEvents(res, events);
  } else if (post && path.endsWith(':generateContent')) {
    sendJson(res, 200, geminiResponse('ok'));
  } else if (post && path.endsWith('/messages')) {
    if (body.stream === true) {
      streamEvents(res, anthropicEvents(model).map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`));
    } else {
      sendJson(res, 200, anthropicMessage(model));
    }
  } else if (post && /\/backend-api\/(f\/)?conversation$/.test(path)) {
    chatgptConversation(req, res);
  } else if (post && path.endsWith('/StreamGenerate')) {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(streamGenerateAnswer('ok'));
  } else {
    sendJson(res, 200, { ok: true });
  }
}

// chatgpt.com's answer to a conversation request: SSE events carrying the growing assistant
// message, then [DONE].
function chatgptConversation(req, res) {
  const message = (i) => ({
    message: { id: 'fake-assistant', author: { role: 'assistant' }, content: { content_type: 'text', parts: [`c${i}`] } },
    conversation_id: 'fake-conversation', error: null,
  });
  if (!String(req.headers.accept || '').includes('text/event-stream')) {
    sendJson(res, 200, message(0));
    return;
  }
  const events = [];
  for (let i = 0; i < STREAM_EVENTS; i++) events.push(`data: ${JSON.stringify(message(i))}\n\n`);
  events.push('data: [DONE]\n\n');
  streamEvents(res, events);
}

// gemini.google.com's StreamGenerate answer: )]}' then a length-prefixed [["wrb.fr",null,"<JSON>"]].
function streamGenerateAnswer(text) {
  const chunk = JSON.stringify([['wrb.fr', null, JSON.stringify([null, ['c_fake', 'r_fake'], null, null, [['rc_fake', [text]]]])]]);
  return `)]}'\n\n${chunk.length}\n${chunk}\n`;
}

function record(opts, value) {
  fs.appendFileSync(opts.record, JSON.stringify({ time_ms: Date.now(), tls: Boolean(opts.tlsCert), ...value }) + '\n');
}

// WebSocket upgrades: recorded, accepted with the first offered subprotocol, messages echoed.
function acceptWebSockets(server, opts) {
  let wss = null;
  server.on('upgrade', (req, socket, head) => {
    if (!wss) {
      const { WebSocketServer } = require('ws');
      wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => protocols.values().next().value || false });
    }
    record(opts, { method: 'UPGRADE', url: req.url, headers: req.headers, body: '', body_base64: '' });
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => {
        const body = Buffer.from(data);
        record(opts, { method: 'WEBSOCKET', url: req.url, headers: {}, binary: isBinary, body: body.toString('utf8'),
                       body_base64: body.toString('base64') });
        ws.send(JSON.stringify({ echo: body.toString('utf8') }));
      });
    });
  });
}

function main() {
  const opts = parseArgs(process.argv);
  const handler = (req, res) => {
    const parts = [];
    req.on('data', (chunk) => parts.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const record = {
        time_ms: Date.now(), tls: Boolean(opts.tlsCert), method: req.method, url: req.url,
        headers: req.headers, body: body.toString('utf8'), body_base64: body.toString('base64'),
      };
      fs.appendFileSync(opts.record, JSON.stringify(record) + '\n');
      const delay = Number(req.headers['x-fake-delay-ms'] || 0);
      if (delay > 0) setTimeout(() => answer(req, res, record.body), delay);
      else answer(req, res, record.body);
    });
  };
  const server = opts.tlsCert
    ? https.createServer({ cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) }, handler)
    : http.createServer(handler);
  acceptWebSockets(server, opts);
  server.listen(opts.port, opts.host, () => {
    process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
  });
  // Open keep-alive connections would hold server.close() up: a fake has nothing to drain.
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}

main();
