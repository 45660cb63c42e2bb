import semver from 'semver';

/** Orders chart versions newest first, by semver precedence. */
export function newestFirst<T extends { version: string }>(a: T, b: T): number {
  return semver.rcompare(a.version, b.version);
}

export function isPrerelease(version: string): boolean {
  return semver.prerelease(version) !== null;
}

/** A chart's latest version, as Helm picks it: the newest that is not a prerelease, else the newest. */
export function latestOf<T extends { version: string }>(newestFirstVersions: readonly T[]): T | undefined {
  return newestFirstVersions.find((v) => !isPrerelease(v.version)) ?? newestFirstVersions[0];
}

/** Sorts newest first like `newestFirst`, parsing each version once (for long lists on a hot path). */
export function sortNewestFirst<T extends { version: string }>(items: readonly T[]): T[] {
  return items
    .map((item) => ({ item, parsed: new semver.SemVer(item.version) }))
    .sort((a, b) => b.parsed.compare(a.parsed))
    .map(({ item }) => item);
}
