import t from 'tap';
import { tokenize, type Token } from '../../web/src/yaml-tokens.js';

const kinds = (line: Token[]) => line.filter((token) => token.kind).map((token) => `${token.kind}:${token.text.trim()}`);

t.test('every line comes back whole, whatever it holds', async (t) => {
  const source = [
    '# comment',
    'replicaCount: 3',
    'image:',
    '  repository: "nginx" # the image',
    '  tag: ""',
    'list:',
    '  - name: a',
    '  - - nested',
    'script: |',
    '  echo "key: value" # not a comment',
    '  done',
    'after: true',
    'weird: {a: [1, 2]}',
    "quoted 'key': x",
    ': odd',
    '\t tab: 1',
    '',
  ].join('\n');
  const lines = tokenize(source);
  t.same(lines.map((line) => line.map((token) => token.text).join('')), source.replace(/\n$/, '').split('\n'));
});

t.test('keys, scalars, comments and block text are told apart', async (t) => {
  const [comment, number, key, string, empty, item, block, blockLine, after, anchor] = tokenize(
    ['# hello', 'replicas: 3', 'image:', '  repository: "nginx" # pinned', '  tag: ""', '  - name: web', 'script: |-', '  echo "a: b" # kept', 'enabled: true', 'base: &base'].join('\n'),
  );
  t.same(kinds(comment ?? []), ['comment:# hello']);
  t.same(kinds(number ?? []), ['key:replicas', 'punct::', 'number:3']);
  t.same(kinds(key ?? []), ['key:image', 'punct::']);
  t.same(kinds(string ?? []), ['key:repository', 'punct::', 'string:"nginx"', 'comment:# pinned']);
  t.same(kinds(empty ?? []), ['key:tag', 'punct::', 'string:""']);
  t.same(kinds(item ?? []), ['punct:-', 'key:name', 'punct::', 'string:web']);
  t.same(kinds(block ?? []), ['key:script', 'punct::', 'punct:|-']);
  t.same(kinds(blockLine ?? []), ['string:echo "a: b" # kept'], 'a block scalar is text, not keys and comments');
  t.same(kinds(after ?? []), ['key:enabled', 'punct::', 'literal:true'], 'the block ends where the indentation does');
  t.same(kinds(anchor ?? []), ['key:base', 'punct::', 'anchor:&base']);
});
