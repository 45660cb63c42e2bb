import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import t from 'tap';
import { sha256 } from '../helpers/oci.js';
import { startServer } from '../helpers/server.js';

/** Sends a request head and part of its body, then drops the connection. */
function abortedRequest(method: string, host: string, port: number, path: string, declared: number, sent: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => {
      socket.write(`${method} ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Length: ${declared}\r\nContent-Type: application/octet-stream\r\n\r\n`);
      socket.write(sent, () => setTimeout(() => socket.destroy(), 100));
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

t.test('a client that dies mid-chunk leaves the session as it was', async (t) => {
  const server = await startServer(t);
  const port = Number(server.host.split(':')[1]);
  const bytes = randomBytes(300_000);

  const post = await fetch(`${server.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
  const location = post.headers.get('location') as string;
  const first = await fetch(`${server.url}${location}`, { method: 'PATCH', body: bytes.subarray(0, 100_000), headers: { 'content-range': '0-99999' } });
  t.equal(first.status, 202);

  await abortedRequest('PATCH', '127.0.0.1', port, location, 200_000, bytes.subarray(100_000, 150_000));
  await new Promise((resolve) => setTimeout(resolve, 200));

  const status = await fetch(`${server.url}${location}`);
  t.equal(status.status, 204);
  t.equal(status.headers.get('range'), '0-99999', 'the half-sent chunk is not counted');

  const rest = await fetch(`${server.url}${location}`, { method: 'PATCH', body: bytes.subarray(100_000), headers: { 'content-range': '100000-299999' } });
  t.equal(rest.status, 202, 'the chunk can be sent again');
  const put = await fetch(`${server.url}${location}?digest=${sha256(bytes)}`, { method: 'PUT' });
  t.equal(put.status, 201);
  const get = await fetch(`${server.url}/v2/team/app/blobs/${sha256(bytes)}`);
  t.ok(Buffer.from(await get.arrayBuffer()).equals(bytes), 'the blob holds exactly the acknowledged chunks');
});

t.test('a client that dies mid-manifest stores nothing and the server keeps serving', async (t) => {
  const server = await startServer(t);
  const port = Number(server.host.split(':')[1]);
  await abortedRequest('PUT', '127.0.0.1', port, '/v2/team/app/manifests/v1', 5000, Buffer.from('{"schemaVersion":2,'));
  const res = await fetch(`${server.url}/v2/team/app/manifests/v1`);
  t.equal(res.status, 404);
  t.equal((await fetch(`${server.url}/v2/`)).status, 200);
});
