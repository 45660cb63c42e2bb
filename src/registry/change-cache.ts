import type { Metadata } from '../db/metadata.js';
import { Lru } from './lru.js';

/**
 * Values read from the metadata store, kept in memory until a change to their group (a
 * repository, or a namespace: what `groupOf` makes of a changed repository) reported by
 * Metadata.onChange. Every read first waits for the changes other processes made before it
 * (Metadata.syncChanges), so what is served is never older than the request.
 */
export class ChangeCache<V> {
  private readonly entries: Lru<string, { generation: string; value: V }>;
  private readonly counts = new Map<string, number>();
  // Bumped when anything at all may have changed.
  private everything = 0;

  constructor(
    private readonly metadata: Metadata,
    capacity: number,
    groupOf: (repository: string) => string = (repository) => repository,
    // Groups whose changes are counted at most (a few MiB).
    trackedGroups = 50_000,
  ) {
    this.entries = new Lru(capacity);
    metadata.onChange((repository) => {
      if (repository === undefined) {
        this.everything += 1;
        this.entries.clear();
        return;
      }
      const group = groupOf(repository);
      this.counts.set(group, (this.counts.get(group) ?? 0) + 1);
      // One count per group ever changed: past a bound, start over as after a change to everything.
      if (this.counts.size > trackedGroups) {
        this.counts.clear();
        this.everything += 1;
        this.entries.clear();
      }
    });
  }

  private generationOf(group: string): string {
    return `${this.everything}.${this.counts.get(group) ?? 0}`;
  }

  /** The value under `key` (in `group`), from memory or else from `load`; kept only when `keep` says so. */
  async read(group: string, key: string, load: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> {
    await this.metadata.syncChanges();
    const generation = this.generationOf(group);
    const cached = this.entries.get(key);
    if (cached?.generation === generation) return cached.value;
    const value = await load();
    // A value read while a change landed may be the old one: use it once, keep none.
    if (keep(value) && this.generationOf(group) === generation) this.entries.set(key, { generation, value });
    return value;
  }
}
