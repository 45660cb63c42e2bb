/**
 * Command-line runner for the OCI distribution-spec v1.1.1 conformance port.
 *
 * Run it from the repository root (Node 20 cannot strip types by itself, so
 * the TypeScript loader that tap ships is registered with --import):
 *
 *   OCI_ROOT_URL=http://127.0.0.1:5000 OCI_NAMESPACE=conformance/test \
 *     node --import=@tapjs/typescript/import test/conformance/cli.ts
 *
 * Environment (same meaning as the original suite, except that the four
 * OCI_TEST_* categories default to on here):
 *   OCI_ROOT_URL, OCI_NAMESPACE                      required
 *   OCI_CROSSMOUNT_NAMESPACE                         default conformance-<uuid>
 *   OCI_USERNAME, OCI_PASSWORD, OCI_AUTH_SCOPE       answered after a 401 challenge
 *   OCI_TEST_PULL, OCI_TEST_PUSH,
 *   OCI_TEST_CONTENT_DISCOVERY,
 *   OCI_TEST_CONTENT_MANAGEMENT                      "false"/"0" disables a category
 *   OCI_DELETE_MANIFEST_BEFORE_BLOBS                 default true
 *   OCI_AUTOMATIC_CROSSMOUNT                         unset: skip those two specs
 *   OCI_TAG_NAME, OCI_MANIFEST_DIGEST,
 *   OCI_BLOB_DIGEST, OCI_TAG_LIST                    test pre-existing content
 *   OCI_HIDE_SKIPPED_WORKFLOWS                       hide specs of disabled categories
 *   OCI_DEBUG                                        log every request/response to stderr
 * Port-specific:
 *   OCI_PORT_BODY_TRANSFER=content-length            send Content-Length instead of
 *                                                    chunked bodies (Go's wire format)
 *   OCI_PORT_REQUEST_TIMEOUT_MS                      per-request timeout (default 120000)
 *
 * Output: one line per spec (PASS / FAIL / SKIP, the Ginkgo full text, and
 * the error), then "N passed, N failed, N skipped". Exit code 1 on any failure.
 */
import { optionsFromEnv, parseGoBool, runConformance, type ConformanceOptions, type ConformanceResult } from './suite.js';

const CATEGORY_ENV: Record<string, string> = {
  Pull: 'OCI_TEST_PULL',
  Push: 'OCI_TEST_PUSH',
  'Content Discovery': 'OCI_TEST_CONTENT_DISCOVERY',
  'Content Management': 'OCI_TEST_CONTENT_MANAGEMENT',
};

function buildOptions(env: NodeJS.ProcessEnv): ConformanceOptions {
  const opts = optionsFromEnv(env);
  if (parseGoBool(env.OCI_DEBUG)) opts.log = (line) => process.stderr.write(`${line}\n`);
  if (env.OCI_PORT_BODY_TRANSFER === 'content-length') opts.bodyTransfer = 'content-length';
  const timeout = Number(env.OCI_PORT_REQUEST_TIMEOUT_MS);
  if (Number.isFinite(timeout) && timeout > 0) opts.requestTimeoutMs = timeout;
  return opts;
}

/** A category is "disabled" when its variable is set to something ParseBool does not call true. */
function categoryDisabled(result: ConformanceResult, env: NodeJS.ProcessEnv): boolean {
  const name = CATEGORY_ENV[result.category];
  return name !== undefined && env[name] !== undefined && !parseGoBool(env[name]);
}

function formatResult(result: ConformanceResult): string {
  const label = result.outcome === 'passed' ? 'PASS' : result.outcome === 'failed' ? 'FAIL' : 'SKIP';
  const detail = result.outcome === 'failed' && result.error ? ` — ${result.error}` : '';
  const warnings = (result.warnings ?? []).map((w) => `\n     WARNING: ${w}`).join('');
  return `${label} ${result.name}${detail}${warnings}`;
}

async function main(): Promise<number> {
  const env = process.env;
  const opts = buildOptions(env);
  if (opts.rootUrl === '' || opts.namespace === '') {
    process.stderr.write('OCI_ROOT_URL and OCI_NAMESPACE must be set\n');
    return 2;
  }
  const hideSkipped = parseGoBool(env.OCI_HIDE_SKIPPED_WORKFLOWS);
  opts.onResult = (result) => {
    if (result.outcome === 'skipped' && hideSkipped && categoryDisabled(result, env)) return;
    process.stdout.write(`${formatResult(result)}\n`);
  };
  const results = await runConformance(opts);
  const count = (outcome: ConformanceResult['outcome']): number => results.filter((r) => r.outcome === outcome).length;
  const failed = count('failed');
  process.stdout.write(`\n${count('passed')} passed, ${failed} failed, ${count('skipped')} skipped (${results.length} specs)\n`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`conformance run crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
