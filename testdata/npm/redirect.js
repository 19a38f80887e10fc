'use strict';
// Preload (`node -r ./redirect.js …`, or require it first): sends every TCP/TLS
// connection to *.livechatinc.com to CHATBRIDGE_ADDR instead, at the socket
// layer, so clients whose host is hard-coded (@livechat/chat-sdk) reach a
// local chatbridge with their code unmodified (ports 443 and 80 both map to
// CHATBRIDGE_ADDR's port; chatbridge serves TLS there).
//
// The TLS session is verified against the address actually dialled (the
// test certificate names 127.0.0.1), so the SNI name api.livechatinc.com is
// dropped; the HTTP Host header still says api.livechatinc.com.
//
// It also records the first request line written on each redirected
// connection (e.g. "GET /v3.4/agent/rtm/sjs/info?bh=… HTTP/1.1") in
// module.exports.requests, so a script can tell which transport was used.
const net = require('net');
const tls = require('tls');

const target = process.env.CHATBRIDGE_ADDR || '';
const i = target.lastIndexOf(':');
if (i < 0) throw new Error('redirect.js: CHATBRIDGE_ADDR (host:port) is not set');
const host = target.slice(0, i).replace(/^\[|\]$/g, '');
const port = +target.slice(i + 1);

const requests = [];
module.exports = { requests };

const redirected = (o) => {
  const h = o && (o.host || o.hostname || o.servername);
  return typeof h === 'string' && /(^|\.)livechatinc\.com$/i.test(h) ? h : '';
};

const map = (o) => ({ ...o, host, hostname: undefined, port, servername: undefined });

// watch records the first line the client writes on the socket.
const watch = (sock, from) => {
  const write = sock.write;
  sock.write = function (chunk, ...rest) {
    sock.write = write;
    const s = Buffer.isBuffer(chunk) ? chunk.toString('latin1') : String(chunk);
    requests.push({ host: from, line: s.split('\r\n', 1)[0] });
    return write.call(this, chunk, ...rest);
  };
  return sock;
};

const tlsConnect = tls.connect;
tls.connect = function (...a) {
  const from = typeof a[0] === 'object' ? redirected(a[0]) : '';
  if (!from) return tlsConnect.apply(this, a);
  a[0] = map(a[0]);
  return watch(tlsConnect.apply(this, a), from);
};

const netConnect = net.connect;
net.connect = net.createConnection = function (...a) {
  const from = typeof a[0] === 'object' ? redirected(a[0]) : '';
  if (!from) return netConnect.apply(this, a);
  a[0] = map(a[0]);
  return watch(netConnect.apply(this, a), from);
};
