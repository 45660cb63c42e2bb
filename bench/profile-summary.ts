// Sums a V8 `.cpuprofile` (from `node --cpu-prof`) by function and by file, so that a profile of
// the server under a benchmark reads as "ms per operation" without opening DevTools.
//
//   node --import=@tapjs/typescript/import bench/profile-summary.ts PROFILE [--ops N] [--top 40] [--match TEXT]
//
// Self time is where the samples landed; inclusive time counts a function once per sample in
// which it is anywhere on the stack (recursion is not counted twice). `--ops` divides by the
// number of operations the profile covers; `--match` keeps only functions whose name or file contains TEXT.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ops: { type: 'string', default: '1' },
    top: { type: 'string', default: '40' },
    match: { type: 'string' },
    // A window in the monotonic clock's microseconds (what `process.hrtime.bigint() / 1000n` says in any process here).
    since: { type: 'string' },
    until: { type: 'string' },
  },
});

/** `file:line name`, with the file shortened to what tells modules apart. */
function label(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(/^.*\/(dist|src)\//, '$1/');
  return `${frame.functionName || '(anonymous)'} ${file ? `${file}:${frame.lineNumber + 1}` : ''}`.trim();
}

function fileOf(frame: CallFrame): string {
  if (!frame.url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  return frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\/((@[^/]+\/)?[^/]+)\/.*$/, '$1').replace(/^.*\/(dist|src)\//, '$1/');
}

function summarize(profile: Profile, since = Number.NEGATIVE_INFINITY, until = Number.POSITIVE_INFINITY) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    at += profile.timeDeltas[i] ?? 0;
    if (at < since || at > until) return;
    const node = byId.get(id) as ProfileNode;
    if (node.callFrame.functionName === '(idle)') return;
    total += ms;
    self.set(label(node.callFrame), (self.get(label(node.callFrame)) ?? 0) + ms);
    files.set(fileOf(node.callFrame), (files.get(fileOf(node.callFrame)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let frame: number | undefined = id; frame !== undefined; frame = parent.get(frame)) {
      const key = label((byId.get(frame) as ProfileNode).callFrame);
      if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
      seen.add(key);
    }
  });
  return { self, inclusive, files, total };
}

function print(title: string, table: Map<string, number>, ops: number, top: number, match?: string): void {
  console.log(`\n${title} (ms per op)`);
  const rows = [...table].filter(([key]) => !match || key.includes(match)).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, ms] of rows) console.log(`${(ms / ops).toFixed(3).padStart(9)}  ${key}`);
}

const file = positionals[0];
if (!file) throw new Error('usage: profile-summary.ts PROFILE [--ops N] [--top N] [--match TEXT]');
const ops = Number(options.ops);
const top = Number(options.top);
const window = [options.since, options.until].map((value) => (value === undefined ? undefined : Number(value)));
const { self, inclusive, files, total } = summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, window[0], window[1]);
console.log(`busy ${total.toFixed(0)} ms in all, ${(total / ops).toFixed(3)} ms per op over ${ops} ops`);
print('self time by file', files, ops, top);
print('self time by function', self, ops, top, options.match);
print('inclusive time by function', inclusive, ops, top, options.match);
