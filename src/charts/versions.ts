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

/**
 * The major numbers a version in `range` can have, or undefined when they are unbounded or many.
 * Conservative: every version the range accepts has one of them (some may have none).
 */
export function rangeMajors(range: semver.Range, most = 16): number[] | undefined {
  const majors = new Set<number>();
  for (const comparators of range.set) {
    let low = 0;
    let high = Number.POSITIVE_INFINITY;
    for (const { operator, semver: bound } of comparators) {
      if (!(bound instanceof semver.SemVer)) continue; // `*`: any version
      const { major, minor, patch, prerelease } = bound;
      if (operator === '' || operator === '=') [low, high] = [Math.max(low, major), Math.min(high, major)];
      else if (operator === '>' || operator === '>=') low = Math.max(low, major);
      else {
        // Below X.0.0 (or X.0.0-0, the least version of major X) no version of major X fits.
        const belowMajor = operator === '<' && minor === 0 && patch === 0 && (prerelease.length === 0 || (prerelease.length === 1 && prerelease[0] === 0));
        high = Math.min(high, belowMajor ? major - 1 : major);
      }
    }
    if (high - low + 1 > most) return undefined;
    for (let major = low; major <= high; major++) majors.add(major);
    if (majors.size > most) return undefined;
  }
  return [...majors].sort((a, b) => a - b);
}
