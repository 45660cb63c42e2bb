// A fast reader for the plain YAML most Chart.yaml files are written in: block mappings and
// sequences of single-line scalars. The `yaml` library spent ~0.2 ms on a typical Chart.yaml
// (building a CST and a document first), the larger part of reading a pushed chart; this reads
// one in a few microseconds. Anything it does not know for certain (numbers, flow collections,
// block scalars, anchors, tags, escapes JSON does not share, odd indentation, duplicate keys …)
// makes it return undefined, and the caller parses the text with `yaml` as before: where it
// returns a value, that value is the one `yaml` (YAML 1.2, core schema) gives.

type Value = string | boolean | null | Value[] | { [key: string]: Value };

interface Line {
  indent: number;
  text: string;
}

/** Thrown inside, when the text is beyond this reader: the caller falls back to `yaml`. */
class Unsure extends Error {}

const unsure = (): never => {
  throw new Unsure();
};

// What a core-schema plain scalar may resolve to besides a string: numbers are left to `yaml`.
const maybeNumber = /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const specialWord = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE)$/;
const keyPattern = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
// A plain scalar may not start with an indicator; `-`, `?` and `:` only when a space follows, which is left out too.
const indicatorStart = /^[-?:,[\]{}#&*!|>'"%@`]/;

// YAML's white space is the space and the tab (and tabs are left to `yaml`); JavaScript's trim() takes more (NBSP, U+2028 …).
const trimStart = (text: string): string => text.replace(/^ +/, '');
const trimEnd = (text: string): string => text.replace(/ +$/, '');

/** The text's lines without comments and blank lines; undefined for what this reader leaves alone. */
function linesOf(text: string): Line[] {
  // Tabs, carriage returns, a byte-order mark and the line breaks YAML knows beside \n are left to `yaml`.
  if (/[\t\r\uFEFF\u0085\u2028\u2029]/.test(text)) unsure();
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    const trimmed = trimStart(raw);
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (/^(?:---|\.\.\.)(?: |$)/.test(raw) || raw.startsWith('%')) unsure();
    lines.push({ indent: raw.length - trimmed.length, text: trimEnd(trimmed) });
  }
  return lines;
}

/** A scalar written after `key: ` or `- `, with any trailing comment. */
function scalar(text: string): Value {
  if (text.startsWith('"')) return doubleQuoted(text);
  if (text.startsWith("'")) return singleQuoted(text);
  const comment = text.indexOf(' #');
  const plain = trimEnd(comment >= 0 ? text.slice(0, comment) : text);
  if (plain === '' || indicatorStart.test(plain) || plain.includes(': ') || plain.endsWith(':') || maybeNumber.test(plain)) unsure();
  if (/^(?:~|null|Null|NULL)$/.test(plain)) return null;
  if (/^(?:true|True|TRUE)$/.test(plain)) return true;
  if (/^(?:false|False|FALSE)$/.test(plain)) return false;
  return plain;
}

/** Whatever follows a closing quote may only be a comment. */
function afterQuote(rest: string): void {
  if (trimStart(rest) !== '' && !/^ +#/.test(rest)) unsure();
}

function doubleQuoted(text: string): string {
  let end = 1;
  while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
  if (end >= text.length) unsure();
  afterQuote(text.slice(end + 1));
  // JSON's escapes are a subset of YAML's and mean the same; anything else is left to `yaml`.
  try {
    return JSON.parse(text.slice(0, end + 1)) as string;
  } catch {
    return unsure();
  }
}

function singleQuoted(text: string): string {
  let end = 1;
  for (;;) {
    const quote = text.indexOf("'", end);
    if (quote < 0) return unsure();
    if (text[quote + 1] !== "'") {
      end = quote;
      break;
    }
    end = quote + 2;
  }
  afterQuote(text.slice(end + 1));
  return text.slice(1, end).replaceAll("''", "'");
}

/** `key: rest` → [key, rest]; rest is '' when the value is on the lines below. */
function keyValue(text: string): [string, string] {
  const colon = text.indexOf(':');
  if (colon <= 0 || (text.length > colon + 1 && text[colon + 1] !== ' ')) unsure();
  const key = text.slice(0, colon);
  // A key `yaml` would read as a number, boolean or null becomes another string in JavaScript.
  if (!keyPattern.test(key) || key === '__proto__' || maybeNumber.test(key) || specialWord.test(key)) unsure();
  return [key, trimStart(text.slice(colon + 1))];
}

/** Reads from a cursor over the lines; each block knows the indentation it lives at. */
function reader(lines: Line[]) {
  let at = 0;

  /** The value of a key whose line ended at the colon: a block below it, or null. */
  function blockValue(parentIndent: number): Value {
    const next = lines[at];
    if (!next || next.indent < parentIndent || (next.indent === parentIndent && !isItem(next))) return null;
    return isItem(next) ? sequence(next.indent) : mapping(next.indent);
  }

  function isItem(line: Line): boolean {
    return line.text === '-' || line.text.startsWith('- ');
  }

  function mapping(indent: number, first?: string): { [key: string]: Value } {
    const map: { [key: string]: Value } = {};
    let text = first;
    for (;;) {
      if (text === undefined) {
        const line = lines[at];
        if (!line || line.indent < indent) break;
        if (line.indent > indent || isItem(line)) unsure();
        text = line.text;
        at += 1;
      }
      const [key, rest] = keyValue(text);
      if (Object.hasOwn(map, key)) unsure();
      map[key] = rest === '' || rest.startsWith('#') ? blockValue(indent) : scalar(rest);
      text = undefined;
    }
    return map;
  }

  function sequence(indent: number): Value[] {
    const list: Value[] = [];
    for (;;) {
      const line = lines[at];
      // A sequence under a key at the key's own indentation ends where the mapping's next key begins.
      if (!line || line.indent < indent || (line.indent === indent && !isItem(line))) break;
      if (line.indent > indent || line.text === '-') unsure();
      at += 1;
      const item = trimStart(line.text.slice(2));
      const column = indent + line.text.length - item.length;
      list.push(/^[A-Za-z0-9_][A-Za-z0-9_./-]*:(?: |$)/.test(item) ? mapping(column, item) : scalar(item));
    }
    return list;
  }

  return {
    document(): { [key: string]: Value } {
      const first = lines[0];
      if (!first || first.indent !== 0 || isItem(first)) unsure();
      const doc = mapping(0);
      if (at !== lines.length) unsure();
      return doc;
    },
  };
}

/** The mapping a plain Chart.yaml holds, or undefined when `yaml` must read the text. */
export function readPlainYaml(text: string): Record<string, unknown> | undefined {
  try {
    return reader(linesOf(text)).document();
  } catch (err) {
    if (err instanceof Unsure) return undefined;
    throw err;
  }
}
