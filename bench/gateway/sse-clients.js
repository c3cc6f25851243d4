// Holds streaming chat requests open through promptwall, for the memory-per-connection figure.
//   node sse-clients.js URL BODY_FILE
// Reads commands on stdin, one a line:
//   open N   opens N more concurrent POSTs (each its own TCP connection) and prints
//            "open TOTAL" once every one of them has received its first SSE event
// Every stream must answer 200 with text/event-stream; anything else prints "error ..." and exits 1.
// Exits (closing every stream) when stdin closes.
'use strict';
const http = require('http');
const fs = require('fs');
const readline = require('readline');

const [url, bodyFile] = process.argv.slice(2);
const body = fs.readFileSync(bodyFile);
const agent = new http.Agent({keepAlive: false, maxSockets: Infinity});
const requests = [];

function fail(why) {
  console.log(`error ${why}`);
  process.exit(1);
}

function openOne() {
  return new Promise((resolve) => {
    const req = http.request(url, {method: 'POST', agent,
                                   headers: {'content-type': 'application/json', 'content-length': body.length}},
                             (res) => {
      if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream'))
        fail(`status ${res.statusCode} content-type ${res.headers['content-type']}`);
      let first = true;
      res.on('data', (chunk) => {
        if (first && chunk.includes('data: ')) { first = false; resolve(); }
      });
      res.on('end', () => fail('a stream ended early'));
    });
    req.on('error', (e) => fail(`request: ${e.message}`));
    req.end(body);
    requests.push(req);
  });
}

const lines = readline.createInterface({input: process.stdin});
lines.on('line', async (line) => {
  const m = /^open (\d+)$/.exec(line.trim());
  if (!m) fail(`unknown command '${line}'`);
  const opened = [];
  for (let i = 0; i < Number(m[1]); ++i) opened.push(openOne());
  await Promise.all(opened);
  console.log(`open ${requests.length}`);
});
lines.on('close', () => {
  for (const r of requests) r.destroy();
  process.exit(0);
});
