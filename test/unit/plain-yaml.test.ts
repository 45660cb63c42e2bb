import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { chartSpec, chartYaml } from '../../bench/seed-charts.js';
import { readChartArchive } from '../../src/charts/archive.js';
import { readPlainYaml } from '../../src/charts/plain-yaml.js';

/** What the `yaml` library reads, or a marker when it refuses the text. */
function reference(text: string): unknown {
  try {
    return parse(text, { maxAliasCount: 64, prettyErrors: false });
  } catch {
    return 'yaml refuses this';
  }
}

async function helmCreateChartYaml(): Promise<string> {
  const file = fileURLToPath(new URL('../fixtures/helm-create-smoke-0.1.0.tgz', import.meta.url));
  return (await readChartArchive(createReadStream(file), { maxUnpackedBytes: 1 << 24, maxFileBytes: 1 << 20 })).chartYaml;
}

const handWritten = [
  'apiVersion: v2\nname: a\nversion: 1.0.0\n',
  'apiVersion: v2\nname: a\nversion: 1.0.0\nkeywords:\n- web\n- db\nhome: https://a.example # the site\n',
  'apiVersion: v2\nname: a\nversion: 1.0.0\nmaintainers:\n  - name: Ada\n    email: ada@example.com\n  -   name: Bob\n      url: https://b.example\n',
  "apiVersion: v2\nname: 'it''s'\nversion: \"1.0.0\"\ndescription: \"caf\\u00e9 \\\"quoted\\\"\" # c\ndeprecated: true\nicon: ~\n",
  'apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: 17.x.x\n  tags:\n  - cache\n  enabled: false\n- name: pg\nannotations:\n  artifacthub.io/license: MIT\n  category: x#y\n',
  'apiVersion: v2\n# a comment\n\nname: a   \nversion: 1.0.0\nkubeVersion:\n',
];

t.test('plain Chart.yaml files read the same as with the yaml library', async (t) => {
  const corpus = [
    ...handWritten,
    await helmCreateChartYaml(),
    ...Array.from({ length: 200 }, (_, i) => {
      const spec = chartSpec(i, 3);
      return chartYaml(spec, spec.versions[i % 3] as (typeof spec.versions)[number]);
    }),
  ];
  for (const text of corpus) {
    const fast = readPlainYaml(text);
    if (fast === undefined) t.fail(`not read: ${text.slice(0, 80)}`);
    else if (JSON.stringify(fast) !== JSON.stringify(reference(text))) t.fail(`differs from yaml: ${text.slice(0, 80)}`);
  }
  t.pass(`${corpus.length} files`);
});

t.test('what the reader does not know for certain is left to the yaml library', async (t) => {
  const left = [
    'appVersion: 1.10\n', 'version: 1e3\n', 'a: 0x1f\n', 'a: .inf\n', 'keywords: [a, b]\n', 'a: {b: c}\n', 'a: |\n  text\n',
    'a: >\n  text\n', 'a: &x b\nc: *x\n', 'a: !!str 1\n', 'a: b\na: c\n', 'a: b: c\n', 'a: "\\x41"\n', 'a: b\n  c\n', '---\na: b\n',
    '- a\n- b\n', 'a:\n\t- b\n', 'a: b\r\n', '"a": b\n', '1: b\n', 'true: b\n', '__proto__: b\n', 'a:\n  - b\n  c: d\n', '',
    '# only a comment\n', 'a: -\n', 'a: @b\n', 'a:\n  -\n    b: c\n', 'a: ? b\n',
  ];
  for (const text of left) t.equal(readPlainYaml(text), undefined, JSON.stringify(text));
});

// Random edits of real files: whenever the reader gives a value, it is exactly the yaml library's.
t.test('edited files: the reader gives the yaml library’s value or none', async (t) => {
  let seed = 12345;
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const pieces = [' ', '  ', '-', '- ', ':', ': ', '#', ' #', '"', "'", '\n', '\n  ', '[', '{', '&', '*', '!', '|', '>', '1', '.', 'a', '\\', '~', 'true', '0x', '\u00a0', '\u2028'];
  const sources = [...handWritten, await helmCreateChartYaml(), chartYaml(chartSpec(7, 1), chartSpec(7, 1).versions[0] as never)];
  let read = 0;
  for (let i = 0; i < 4000; i++) {
    const source = sources[random(sources.length)] as string;
    const at = random(source.length + 1);
    const cut = random(3);
    const text = source.slice(0, at) + (pieces[random(pieces.length)] as string) + source.slice(at + cut);
    const fast = readPlainYaml(text);
    if (fast === undefined) continue;
    read += 1;
    if (JSON.stringify(fast) !== JSON.stringify(reference(text))) t.fail(`differs from yaml: ${JSON.stringify(text)}`);
  }
  t.ok(read > 1000, `${read} of 4000 edited files read, each as yaml reads it`);
});
