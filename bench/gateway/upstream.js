// Small node upstreams for bench/run-gateway-bench.sh (nginx cannot do either):
//   node upstream.js echo PORT   answers every request with the body it received, base64 in
//                                {"received_base64": ...}, so a check can see exactly what
//                                promptwall forwarded (as plain text the gateway would restore the
//                                pseudonyms in it, as it does in every reply)
//   node upstream.js sse PORT    answers every request with text/event-stream and one OpenAI
//                                chat.completion.chunk event a second, forever (a slow stream)
// Listens on 127.0.0.1 only; prints "listening" once ready.
'use strict';
const http = require('http');

const [mode, portText] = process.argv.slice(2);
const port = Number(portText);
if (!['echo', 'sse'].includes(mode) || !(port > 0)) {
  console.error('usage: node upstream.js echo|sse PORT');
  process.exit(2);
}

function echo(req, res) {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const body = Buffer.from(JSON.stringify({received_base64: Buffer.concat(parts).toString('base64')}));
    res.writeHead(200, {'content-type': 'application/json', 'content-length': body.length});
    res.end(body);
  });
}

function sse(req, res) {
  req.resume();  // the prompt itself does not matter here
  res.writeHead(200, {'content-type': 'text/event-stream', 'cache-control': 'no-cache'});
  let n = 0;
  const send = () => {
    const chunk = {id: 'chatcmpl-sse', object: 'chat.completion.chunk', created: 1764115200, model: 'gpt-4o-mini',
                   choices: [{index: 0, delta: {content: `token ${n++} `}, finish_reason: null}]};
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  };
  send();
  const timer = setInterval(send, 1000);
  res.on('close', () => clearInterval(timer));
}

const server = http.createServer(mode === 'echo' ? echo : sse);
server.keepAliveTimeout = 75000;
server.headersTimeout = 80000;
server.requestTimeout = 0;  // streams run for as long as the client holds them
server.maxConnections = 100000;
server.listen(port, '127.0.0.1', () => console.log('listening'));
