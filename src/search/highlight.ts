import type { SearchTerm } from '../db/metadata.js';
import { foldWord, wordPattern } from './words.js';

const htmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => htmlEscapes[c] as string);
}

interface Token {
  start: number;
  end: number;
  matched: boolean;
}

function foldedTerms(terms: SearchTerm[]): { word: string; prefix: boolean }[] {
  return terms.flatMap((term) => term.words.map((word) => ({ word: foldWord(word), prefix: term.prefix })));
}

function tokens(text: string, terms: SearchTerm[]): Token[] {
  const wanted = foldedTerms(terms);
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

/**
 * Where in `text` a term first matches, found with one regular expression instead of folding
 * every word of a long README; undefined when the terms are not plain ASCII or it finds nothing
 * (a match may still hide behind diacritics: the caller then folds every word).
 */
function firstMatch(text: string, terms: SearchTerm[]): number | undefined {
  const words = foldedTerms(terms);
  if (!words.every((w) => /^[a-z0-9]+$/.test(w.word))) return undefined;
  const alternatives = words.map((w) => (w.prefix ? `${w.word}[\\p{L}\\p{N}\\p{M}]*` : `${w.word}(?![\\p{L}\\p{N}\\p{M}])`));
  return new RegExp(`(?<![\\p{L}\\p{N}\\p{M}])(?:${alternatives.join('|')})`, 'iu').exec(text)?.index;
}

/** About `width` words of a long text around its first match, highlighted; undefined when nothing matches. */
export function snippet(text: string | undefined, terms: SearchTerm[], width = 24): string | undefined {
  if (!text || terms.length === 0) return undefined;
  // Only the neighbourhood of the first match is split into words: enough characters for `width` words.
  const at = firstMatch(text, terms);
  const start = at === undefined ? 0 : Math.max(0, at - width * 20);
  const end = at === undefined ? text.length : Math.min(text.length, at + width * 40);
  const list = tokens(text.slice(start, end), terms).map((token) => ({ ...token, start: token.start + start, end: token.end + start }));
  // A word cut at the edge of the neighbourhood is not a word of the text.
  if (start > 0) list.shift();
  if (end < text.length) list.pop();
  const first = list.findIndex((token) => token.matched);
  if (first < 0) return undefined;
  const lead = Math.floor(width / 3);
  const from = first - lead <= 0 && start === 0 ? 0 : (list[Math.max(0, first - lead)] as Token).start;
  const last = list[Math.min(list.length - 1, Math.max(0, first - lead) + width - 1)] as Token;
  const to = last === list[list.length - 1] && end === text.length ? text.length : last.end;
  return `${from > 0 ? '…' : ''}${marked(text, list, from, to)}${to < text.length ? '…' : ''}`;
}
