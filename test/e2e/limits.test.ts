// One client must not be able to hold the server: a request head sent a byte at a time, a body
// that trickles on forever, a connection that says nothing, too many uploads at once.
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import t from 'tap';
import { httpGet, httpRequest } from '../helpers/http.js';
import { startServer, type TestServer } from '../helpers/server.js';

const portOf = (server: TestServer): number => Number(server.host.split(':')[1]);

/** Writes `head`, then `drip()` every `everyMs` until the server closes the socket; resolves with what it answered. */
function dripUntilClosed(server: TestServer, head: string, drip: () => string, everyMs: number, giveUpMs: number): Promise<{ closedByServer: boolean; answer: string }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(portOf(server), '127.0.0.1');
    let answer = '';
    const timer = setInterval(() => socket.write(drip()), everyMs);
    const giveUp = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      resolve({ closedByServer: false, answer });
    }, giveUpMs);
    socket.on('connect', () => socket.write(head));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedByServer: true, answer });
    });
  });
}

t.test('a request head sent a byte at a time is cut off (slowloris)', async (t) => {
  const server = await startServer(t, { 'limits.headersTimeoutSeconds': 1 });
  let n = 0;
  const slow = dripUntilClosed(server, 'GET /v2/ HTTP/1.1\r\nHost: x\r\n', () => `X-${n++}: y\r\n`, 100, 20_000);
  t.equal((await httpGet(`${server.url}/v2/`)).status, 200, 'other clients are served meanwhile');
  const { closedByServer, answer } = await slow;
  t.ok(closedByServer, 'the server closed the connection');
  t.ok(answer === '' || answer.startsWith('HTTP/1.1 408'), 'with a 408, or without an answer');
});

t.test('a connection that says nothing is closed', async (t) => {
  const server = await startServer(t, { 'limits.idleTimeoutSeconds': 1, 'limits.headersTimeoutSeconds': 60 });
  const { closedByServer } = await dripUntilClosed(server, '', () => '', 60_000, 20_000);
  t.ok(closedByServer, 'the server closed it');
});

t.test('an endless chunked upload trickling below the minimum rate is cut off and leaves the session as it was', async (t) => {
  const server = await startServer(t, { 'limits.minBodyBytesPerSecond': 1000, 'limits.bodyRateWindowSeconds': 1 });
  const post = await httpRequest(`${server.url}/v2/team/app/blobs/uploads/`, 'POST');
  const location = String(post.headers.location);
  const head = `PATCH ${location} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n`;
  // 10 bytes every 100 ms: 100 B/s, for ever.
  const { closedByServer } = await dripUntilClosed(server, head, () => `a\r\n${'x'.repeat(10)}\r\n`, 100, 20_000);
  t.ok(closedByServer, 'the server closed the connection');
  const status = await httpGet(`${server.url}${location}`);
  t.equal(status.status, 204, 'the session is still there');
  t.equal(status.headers.range, '0-0', 'without the trickled bytes');
  t.equal((await httpGet(`${server.url}/v2/`)).status, 200, 'and the server serves on');
});

t.test('more uploads at once than allowed get 429 with Retry-After', async (t) => {
  const server = await startServer(t, { 'limits.maxConcurrentUploads': 2 });
  const sessions = await Promise.all([0, 1, 2].map(() => httpRequest(`${server.url}/v2/team/app/blobs/uploads/`, 'POST')));
  const [a, b, c] = sessions.map((res) => String(res.headers.location)) as [string, string, string];
  // Two uploads that send half their body and wait.
  const holders = [a, b].map((location) => {
    const socket = connect(portOf(server), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`PATCH ${location} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(500)}`);
    return socket;
  });
  t.teardown(() => holders.forEach((socket) => socket.destroy()));
  let third = await httpRequest(`${server.url}${c}`, 'PATCH', {}, 'hello');
  for (let i = 0; i < 50 && third.status === 202; i++) {
    // The two holders may not have reached the store yet.
    await new Promise((resolve) => setTimeout(resolve, 100));
    third = await httpRequest(`${server.url}${c}`, 'PATCH', { 'content-range': '5-9' }, 'world');
  }
  t.equal(third.status, 429);
  t.equal(third.headers['retry-after'], '1');
  t.match(JSON.parse(third.body.toString()), { errors: [{ code: 'TOOMANYREQUESTS' }] });
  for (const socket of holders) socket.write('y'.repeat(500));
  let again = await httpGet(`${server.url}${c}`);
  const offset = again.headers.range === '0-0' ? 0 : Number(String(again.headers.range).split('-')[1]) + 1;
  for (let i = 0; i < 50; i++) {
    again = await httpRequest(`${server.url}${c}`, 'PATCH', { 'content-range': `${offset}-${offset + 4}` }, 'again');
    if (again.status !== 429) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.equal(again.status, 202, 'once they finish, uploads go through again');
});

// Found by reliability/soak.ts: the body-rate guard added a 'close' listener to the socket for
// every request with a body; on a kept-alive socket they piled up, each holding its request, and
// the server's memory grew by hundreds of MiB a minute.
t.test('requests on a kept-alive connection leave no listeners behind on its socket', async (t) => {
  const server = await startServer(t);
  const sockets: Socket[] = [];
  server.app.server.on('connection', (socket: Socket) => sockets.push(socket));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  for (let i = 0; i < 50; i++) {
    await new Promise<void>((resolve, reject) => {
      const req = request(`${server.url}/v2/team/app/blobs/uploads/`, { method: 'POST', agent, headers: { 'content-length': '5' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end('hello');
    });
  }
  t.equal(sockets.length, 1, 'one connection served them all');
  t.ok((sockets[0] as Socket).listenerCount('close') < 10, `listeners on its socket: ${(sockets[0] as Socket).listenerCount('close')}`);
});
