// Evaluates a proxy auto-config file the way a browser does: FindProxyForURL(url, host) in a
// sandbox holding the standard PAC functions (the Netscape/Mozilla definitions), and prints one
// JSON line: {"results": {"<arg>": "<what FindProxyForURL returned>"}, "dns_calls": N}.
//
//   node pac_eval.js FILE URL[|HOST]...
//
// HOST defaults to the URL's host name (IPv6 without brackets, as browsers pass it); give it to
// test what a browser might pass verbatim (upper case, a trailing dot). The DNS functions count
// their calls and resolve nothing: a PAC that needs them would stall browsers.
'use strict';
const fs = require('fs');
const vm = require('vm');

const [file, ...cases] = process.argv.slice(2);
let dnsCalls = 0;

const sandbox = {
  isPlainHostName: (host) => host.search('\\.') === -1,
  dnsDomainIs: (host, domain) => host.length >= domain.length && host.substring(host.length - domain.length) === domain,
  localHostOrDomainIs: (host, hostdom) => host === hostdom || hostdom.lastIndexOf(host + '.', 0) === 0,
  shExpMatch: (text, pattern) => {
    const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    return new RegExp('^' + re + '$').test(text);
  },
  isResolvable: () => { dnsCalls++; return false; },
  dnsResolve: () => { dnsCalls++; return null; },
  myIpAddress: () => { dnsCalls++; return '127.0.0.1'; },
  isInNet: (host, pattern, mask) => {
    const ip = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? host : (dnsCalls++, null);
    if (!ip) return false;
    const n = (s) => s.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
    return (n(ip) & n(mask)) >>> 0 === (n(pattern) & n(mask)) >>> 0;
  },
  dnsDomainLevels: (host) => host.split('.').length - 1,
  weekdayRange: () => true,
  dateRange: () => true,
  timeRange: () => true,
};
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(file, 'utf8'), sandbox, { filename: file });
if (typeof sandbox.FindProxyForURL !== 'function') {
  console.log(JSON.stringify({ error: 'no FindProxyForURL function' }));
  process.exit(1);
}

const results = {};
for (const c of cases) {
  const bar = c.indexOf('|');
  const url = bar < 0 ? c : c.slice(0, bar);
  const host = bar < 0 ? new URL(url).hostname.replace(/^\[|\]$/g, '') : c.slice(bar + 1);
  results[c] = sandbox.FindProxyForURL(url, host);
}
console.log(JSON.stringify({ results, dns_calls: dnsCalls }));
