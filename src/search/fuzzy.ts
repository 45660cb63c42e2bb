/**
 * Edit distance with adjacent transpositions (optimal string alignment), giving up once it
 * exceeds `max`: typos in short names are one or two slips of a finger.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, (before[j - 2] as number) + 1);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > max) return max + 1;
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

/** The known words nearest to `word`: one slip allowed up to 5 letters, two beyond. */
export function nearestWords(word: string, known: Iterable<string>, limit = 8): string[] {
  const max = word.length <= 5 ? 1 : 2;
  const near: { word: string; distance: number }[] = [];
  for (const candidate of known) {
    const distance = editDistance(word, candidate, max);
    if (distance <= max && candidate !== word) near.push({ word: candidate, distance });
  }
  return near
    .sort((a, b) => a.distance - b.distance || a.word.localeCompare(b.word))
    .slice(0, limit)
    .map((entry) => entry.word);
}
