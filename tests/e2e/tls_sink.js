#!/usr/bin/env node
// A TLS syslog receiver for the SIEM end-to-end test: accepts TLS connections on loopback and
// appends every byte received, as received (octet-counted frames), to a file.
//
//   node tls_sink.js --port N --cert C --key K --out FILE [--min-version V --max-version V --ciphers C]
//
// Prints "listening" on stdout once it accepts connections. No dependencies: runs on Node 18 and 20.
// --max-version TLSv1.1 --min-version TLSv1 --ciphers DEFAULT@SECLEVEL=0 makes an old server (the
// upstream TLS test: the gateway must refuse it); each failed handshake is written to stderr.
'use strict';

const fs = require('fs');
const tls = require('tls');

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!args.port || !args.cert || !args.key || !args.out) {
  process.stderr.write('usage: tls_sink.js --port N --cert C --key K --out FILE\n');
  process.exit(2);
}

const options = { cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) };
if (args['min-version']) options.minVersion = args['min-version'];
if (args['max-version']) options.maxVersion = args['max-version'];
if (args.ciphers) options.ciphers = args.ciphers;
const server = tls.createServer(options, (socket) => {
  socket.on('data', (chunk) => fs.appendFileSync(args.out, chunk));
  socket.on('error', () => {});
});
server.on('tlsClientError', (err) => process.stderr.write(`tls_sink: ${err.message}\n`));
server.listen(Number(args.port), '127.0.0.1', () => process.stdout.write('listening\n'));
