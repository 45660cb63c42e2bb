#!/usr/bin/env node
// The project's test command (`npm test`): provisions the stock clients, type-checks and builds,
// runs tap, then prints the plain closing line CI reads: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from 'tap-parser';

const root = new URL('..', import.meta.url).pathname;
const resultsDir = join(root, '.tap', 'test-results');

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function provisionClients() {
  const result = spawnSync(process.execPath, ['scripts/provision-clients.mjs', '--print-env'], { cwd: root, encoding: 'utf8' });
  process.stderr.write(result.stderr);
  if (result.status !== 0) {
    console.error('could not provision the stock clients (helm); see above');
    process.exit(1);
  }
  const env = {};
  for (const line of result.stdout.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]] = match[2].replace(/^'(.*)'$/, '$1');
  }
  return env;
}

/** Counts leaf assertions in tap's saved per-file results: the point that closes a subtest is not counted. */
function countResults() {
  const totals = { passed: 0, failed: 0 };
  let files = [];
  try {
    files = readdirSync(resultsDir, { recursive: true }).filter((file) => String(file).endsWith('.tap'));
  } catch {
    return totals;
  }
  const count = (parser) => {
    let openSubtests = 0;
    parser.on('child', (child) => {
      openSubtests += 1;
      count(child);
    });
    parser.on('assert', (result) => {
      if (openSubtests > 0) {
        openSubtests -= 1;
        return;
      }
      if (result.todo || result.skip) return;
      if (result.ok) totals.passed += 1;
      else totals.failed += 1;
    });
  };
  for (const file of files) {
    const parser = new Parser();
    const failedBefore = totals.failed;
    count(parser);
    // A file whose process died (a signal, a crash) may end with no failing point: count it once.
    parser.on('complete', (results) => {
      if (!results.ok && totals.failed === failedBefore) totals.failed += 1;
    });
    parser.end(readFileSync(join(resultsDir, String(file)), 'utf8'));
  }
  return totals;
}

const argv = process.argv.slice(2);
const env = { ...process.env, ...(process.env.CHARTROOM_SKIP_PROVISION ? {} : provisionClients()) };

// Type-check server, tests and web UI; build the server and the UI (the browser tests drive it).
let status = run('npm', ['run', '--silent', 'typecheck']);
if (status === 0) status = run('npm', ['run', '--silent', 'build']);
if (status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
rmSync(resultsDir, { recursive: true, force: true });
status = run('npx', ['tap', ...argv], { env });
const { passed, failed } = countResults();
console.log(`${passed} passed, ${failed + (status !== 0 && failed === 0 ? 1 : 0)} failed`);
process.exit(status === 0 && failed === 0 ? 0 : 1);
