import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let version: string | undefined;

/** Chartroom's version, from package.json (one level above both `src/` and `dist/`). */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string }).version;
  return version;
}
