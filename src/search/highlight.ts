import type { SearchTerm } from '../db/metadata.js';

const wordPattern = /[\p{L}\p{N}\p{M}]+/gu;
const htmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => htmlEscapes[c] as string);
}

/** A word as the full-text index compares it: lower case, without diacritics. */
export function foldWord(word: string): string {
  const lower = word.toLowerCase();
  return /^[\x00-\x7f]*$/.test(lower) ? lower : lower.normalize('NFD').replace(/\p{M}/gu, '');
}

interface Token {
  start: number;
  end: number;
  matched: boolean;
}

function tokens(text: string, terms: SearchTerm[]): Token[] {
  const wanted = terms.flatMap((term) => term.words.map((word) => ({ word: foldWord(word), prefix: term.prefix })));
  return [...text.matchAll(wordPattern)].map((found) => {
    const folded = foldWord(found[0]);
    const start = found.index;
    return { start, end: start + found[0].length, matched: wanted.some((w) => (w.prefix ? folded.startsWith(w.word) : folded === w.word)) };
  });
}

function marked(text: string, list: Token[], from: number, to: number): string {
  let out = '';
  let at = from;
  for (const token of list) {
    if (token.start < from || token.end > to || !token.matched) continue;
    out += `${escapeHtml(text.slice(at, token.start))}<mark>${escapeHtml(text.slice(token.start, token.end))}</mark>`;
    at = token.end;
  }
  return out + escapeHtml(text.slice(at, to));
}

/** The text, HTML-escaped, with each word a term matches in `<mark>`; undefined when none matches. */
export function highlight(text: string | undefined, terms: SearchTerm[]): string | undefined {
  if (!text || terms.length === 0) return undefined;
  const list = tokens(text, terms);
  return list.some((token) => token.matched) ? marked(text, list, 0, text.length) : undefined;
}

/** About `width` words of a long text around its first match, highlighted; undefined when nothing matches. */
export function snippet(text: string | undefined, terms: SearchTerm[], width = 24): string | undefined {
  if (!text || terms.length === 0) return undefined;
  const list = tokens(text, terms);
  const first = list.findIndex((token) => token.matched);
  if (first < 0) return undefined;
  const lead = Math.floor(width / 3);
  const startToken = list[Math.max(0, first - lead)] as Token;
  const endToken = list[Math.min(list.length - 1, first - lead + width - 1)] ?? (list[list.length - 1] as Token);
  const from = first - lead <= 0 ? 0 : startToken.start;
  const to = endToken === list[list.length - 1] ? text.length : endToken.end;
  return `${from > 0 ? '…' : ''}${marked(text, list, from, to)}${to < text.length ? '…' : ''}`;
}
