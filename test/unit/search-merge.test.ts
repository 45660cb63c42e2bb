import { join } from 'node:path';
import t from 'tap';
import { migrate, openDatabase } from '../../src/db/database.js';
import { createChartSearchIndex } from '../../src/db/sqlite-search.js';
import { tempDataDir } from '../helpers/server.js';

// The merge loop that runs after chart writes (and at every start) steps until mergeSome says
// there is nothing left; FTS5's 'merge' command counts as a change itself, so a check on "any
// change" never ended and kept an idle server at full CPU.
t.test('merging an index with nothing to merge is no work', async (t) => {
  const db = openDatabase(join(tempDataDir(t), 'chartroom.db'), 'normal');
  t.teardown(() => db.close());
  migrate(db);
  const search = createChartSearchIndex(db);
  t.equal(search.mergeSome(), false, 'an empty index has nothing to merge');
  t.equal(search.mergeSome(), false, 'and still nothing the second time');
});
