#!/usr/bin/env node
// Container health check (the image's HEALTHCHECK, and compose's): GET /healthz on this
// container's own listener; exit 0 on 200, 1 otherwise.
//
// The port and whether to speak HTTPS come from the same sources the server reads (defaults,
// the CHARTROOM_CONFIG file, CHARTROOM_* variables), so a config that moves the port or turns
// on TLS needs no second setting here. Needs only node: no curl, no wget in the image.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { loadConfig } from '../dist/config/index.js';

let config;
try {
  config = loadConfig({ env: process.env });
} catch (err) {
  process.stderr.write(`healthcheck: ${err.message}\n`);
  process.exit(1);
}

const tls = config.tls.cert !== '';
// A wildcard listener is reached on loopback; a specific address only on itself.
const host = ['0.0.0.0', '::', '[::]'].includes(config.host) ? '127.0.0.1' : config.host;
const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${config.port}/healthz`;

const req = (tls ? httpsRequest : httpRequest)(
  url,
  // The certificate names the public host name, not 127.0.0.1: this asks whether the process
  // answers, not whether clients will trust it.
  { method: 'GET', timeout: 4000, rejectUnauthorized: false },
  (res) => {
    res.resume();
    const ok = res.statusCode === 200;
    process[ok ? 'stdout' : 'stderr'].write(`healthcheck: ${url} answered ${res.statusCode}\n`);
    process.exit(ok ? 0 : 1);
  },
);
req.on('timeout', () => req.destroy(new Error('no answer within 4 s')));
req.on('error', (err) => {
  process.stderr.write(`healthcheck: ${url}: ${err.message}\n`);
  process.exit(1);
});
req.end();
