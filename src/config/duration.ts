const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90d`, `12h`, `30m`, `45s` → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(text);
  if (!match) throw new Error(`not a duration: ${text} (use e.g. 30s, 30m, 12h, 90d)`);
  return Number(match[1]) * (units[match[2] as string] as number);
}
