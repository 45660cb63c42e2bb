import { createHash } from 'node:crypto';
import t from 'tap';
import { startServer } from '../helpers/server.js';

t.test('race', { timeout: 200000 }, async (t) => {
  for (let i = 0; i < 20; i++) {
    const server = await startServer(t);
    const data = Buffer.alloc(50000, 7);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const r = await fetch(`${server.url}/v2/a/b/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data });
    await r.arrayBuffer();
    let finishedAt = 0;
    server.app.server.on('request', (_req, res) => res.on('finish', () => { finishedAt = performance.now(); }));
    const g = await fetch(`${server.url}/v2/a/b/blobs/${digest}`);
    await g.arrayBuffer();
    const gotAt = performance.now();
    const started = performance.now(); console.error(`round ${i}: at close: finish ${finishedAt ? "seen" : "NOT seen"}`);
    await server.app.close();
    console.error(`round ${i}: finish ${finishedAt ? (finishedAt - gotAt).toFixed(2) : 'not yet'} ms after client had body; close took ${(performance.now() - started).toFixed(0)} ms`);
  }
  t.pass();
});
