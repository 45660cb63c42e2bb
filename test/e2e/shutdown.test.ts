import { randomBytes } from 'node:crypto';
import t from 'tap';
import { sha256 } from '../helpers/oci.js';
import { startServer } from '../helpers/server.js';

// A blob response used to finish one disk read after its last byte; a close() in that gap
// waited for the 72 s keep-alive timeout. Closing must not wait on a client that has its bytes.
t.test('closing right after blob downloads does not wait for keep-alive sockets', async (t) => {
  for (let round = 0; round < 5; round++) {
    const server = await startServer(t);
    const bytes = randomBytes(50_000);
    await fetch(`${server.url}/v2/team/app/blobs/uploads/?digest=${sha256(bytes)}`, { method: 'POST', body: bytes });
    const res = await fetch(`${server.url}/v2/team/app/blobs/${sha256(bytes)}`);
    t.ok(Buffer.from(await res.arrayBuffer()).equals(bytes));
    const closed = await Promise.race([
      server.app.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still open after 10 s'), 10_000).unref()),
    ]);
    t.equal(closed, 'closed', `round ${round}`);
  }
});
