// A small YAML highlighter for values.yaml: enough to tell keys, values, comments and block
// text apart at a glance. It never parses: whatever the input, each line comes back as tokens
// whose texts join to the line.

export type TokenKind = 'comment' | 'key' | 'string' | 'number' | 'literal' | 'anchor' | 'punct';

export interface Token {
  kind?: TokenKind;
  text: string;
}

const keyPattern = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{[\]},&*!|>%@`][^#]*?|[^\s#'"{[\]},&*!|>%@`])(\s*:)(?=\s|$)/;
const numberPattern = /^[-+]?(?:0x[0-9a-f]+|0o[0-7]+|(?:\d[\d_]*)?\.?\d+(?:e[-+]?\d+)?|\.inf|\.nan)$/i;
const literalPattern = /^(?:true|false|yes|no|on|off|null|~)$/i;
const blockScalar = /^[|>][-+0-9]*$/;

/** Where a comment starts in a value: a `#` after a space, outside quotes. */
function commentStart(text: string): number {
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t')) {
      return i;
    }
  }
  return -1;
}

function scalar(text: string): Token {
  const trimmed = text.trim();
  if (/^["']/.test(trimmed)) return { kind: 'string', text };
  if (numberPattern.test(trimmed)) return { kind: 'number', text };
  if (literalPattern.test(trimmed)) return { kind: 'literal', text };
  if (/^[&*][^\s]+$/.test(trimmed)) return { kind: 'anchor', text };
  if (blockScalar.test(trimmed) || /^[[\]{}]+$/.test(trimmed)) return { kind: 'punct', text };
  return { kind: 'string', text };
}

/** A value after `key:` or `- `: leading blanks, the scalar, then a comment. */
function value(text: string, out: Token[]): void {
  const cut = commentStart(text);
  const body = cut < 0 ? text : text.slice(0, cut);
  const lead = /^\s*/.exec(body)?.[0] ?? '';
  if (lead) out.push({ text: lead });
  const rest = body.slice(lead.length);
  if (rest) {
    const trail = /\s*$/.exec(rest)?.[0] ?? '';
    out.push(scalar(rest.slice(0, rest.length - trail.length)));
    if (trail) out.push({ text: trail });
  }
  if (cut >= 0) out.push({ kind: 'comment', text: text.slice(cut) });
}

/** The tokens of each line of `source`. */
export function tokenize(source: string): Token[][] {
  const lines = source.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
  let blockIndent = -1;
  return lines.map((line) => {
    const indent = /^ */.exec(line)?.[0].length ?? 0;
    if (blockIndent >= 0) {
      if (line.trim() === '' || indent > blockIndent) return line ? [{ kind: 'string', text: line }] : [];
      blockIndent = -1;
    }
    const out: Token[] = [];
    let rest = line;
    const lead = /^\s*/.exec(rest)?.[0] ?? '';
    if (lead) out.push({ text: lead });
    rest = rest.slice(lead.length);
    let itemIndent = indent;
    for (let dash = /^-(\s+|$)/.exec(rest); dash; dash = /^-(\s+|$)/.exec(rest)) {
      out.push({ kind: 'punct', text: '-' });
      if (dash[1]) out.push({ text: dash[1] });
      itemIndent += dash[0].length;
      rest = rest.slice(dash[0].length);
    }
    if (rest.startsWith('#')) {
      out.push({ kind: 'comment', text: rest });
      return out;
    }
    if (rest === '---' || rest === '...') {
      out.push({ kind: 'punct', text: rest });
      return out;
    }
    const key = keyPattern.exec(rest);
    if (key) {
      out.push({ kind: 'key', text: key[1] as string }, { kind: 'punct', text: key[2] as string });
      rest = rest.slice(key[0].length);
    }
    if (rest) value(rest, out);
    const last = out.filter((token) => token.kind !== 'comment' && token.text.trim() !== '').pop();
    if (last?.kind === 'punct' && blockScalar.test(last.text.trim())) blockIndent = key ? itemIndent : indent;
    return out;
  });
}
