/** A word as the full-text indexes see it: a run of letters, digits and combining marks. */
export const wordPattern = /[\p{L}\p{N}\p{M}]+/gu;

/** A word as the full-text index compares it (unicode61, remove_diacritics 2): lower case, without diacritics. */
export function foldWord(word: string): string {
  const lower = word.toLowerCase();
  return /^[\x00-\x7f]*$/.test(lower) ? lower : lower.normalize('NFD').replace(/\p{M}/gu, '');
}
