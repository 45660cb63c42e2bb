import t from 'tap';
import { checkDigest, isValidDigest, isValidName, isValidTag, parseReference } from '../../src/registry/grammar.js';

const sha256 = `sha256:${'a'.repeat(64)}`;
const sha512 = `sha512:${'b'.repeat(128)}`;

t.test('repository names follow the spec grammar', async (t) => {
  for (const name of ['a', 'team/app', 'a.b/c_d/e__f/g-h', 'a--b', 'x/y/z/w', 'a0/1']) t.ok(isValidName(name), name);
  for (const name of ['', 'A', 'team/', '/team', 'a//b', 'a/../b', '..', 'a_', '-a', 'a___b', 'a/B', 'a b', 'a%2fb', `a/${'b'.repeat(255)}`]) {
    t.notOk(isValidName(name), JSON.stringify(name));
  }
});

t.test('tags follow the spec grammar', async (t) => {
  for (const tag of ['latest', '1.0.0', '1.0.0_build.1', '_x', 'A-b.C', 'a'.repeat(128)]) t.ok(isValidTag(tag), tag);
  for (const tag of ['', '.x', '-x', 'a+b', 'a/b', 'a'.repeat(129), 'a:b']) t.notOk(isValidTag(tag), JSON.stringify(tag));
});

t.test('digests: sha256 and sha512 with exact lowercase hex', async (t) => {
  t.ok(isValidDigest(sha256));
  t.ok(isValidDigest(sha512));
  for (const digest of [
    'sha256:abc',
    `sha256:${'A'.repeat(64)}`,
    `sha256:${'a'.repeat(65)}`,
    `sha512:${'a'.repeat(64)}`,
    `md5:${'a'.repeat(32)}`,
    `sha256:${'g'.repeat(64)}`,
    'sha256',
    ':abc',
    `SHA256:${'a'.repeat(64)}`,
  ]) {
    t.notOk(isValidDigest(digest), digest);
  }
  t.throws(() => checkDigest('sha256:totallywrong'), { code: 'DIGEST_INVALID', status: 400 });
});

t.test('a reference is a digest when it has a colon, else a tag', async (t) => {
  t.same(parseReference(sha256), { digest: sha256 });
  t.same(parseReference('1.2.3'), { tag: '1.2.3' });
  t.throws(() => parseReference('.bad'), { code: 'TAG_INVALID', status: 400 });
  t.throws(() => parseReference('sha256:zz'), { code: 'DIGEST_INVALID' });
});
