import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  boundHasher,
  createArgon2Hasher,
  findPasswordProblem,
  HasherBusyError,
  OWASP_ARGON2ID,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
} from '../src/server/core/passwords.js';

describe('password rules (NIST SP 800-63B rev. 4 §3.1.1.2)', () => {
  test(`the floor is ${PASSWORD_MIN_LENGTH} characters`, () => {
    assert.equal(PASSWORD_MIN_LENGTH, 15);
    assert.equal(findPasswordProblem('seven77'), 'too_short');
    assert.equal(findPasswordProblem('fourteen chars'), 'too_short');
    assert.equal(findPasswordProblem('fifteen chars!!'), null);
  });

  test('characters are counted as a person counts them, not as UTF-16 units', () => {
    // Seven emoji are 14 UTF-16 units but seven characters.
    assert.equal(findPasswordProblem('🔑🔒🗝️🚪🏠🌙⭐'), 'too_short');
    assert.equal(findPasswordProblem('🔑🔒🚪🏠🌙⭐🌊🌲🍀🎈🎵🐝🐢🦉🦊'), null);
  });

  test('64 and 1024 characters are accepted; longer is refused rather than truncated', () => {
    assert.equal(findPasswordProblem('a long passphrase '.repeat(4).slice(0, 64)), null);
    assert.equal(findPasswordProblem('q'.repeat(500) + 'w'.repeat(524)), null);
    assert.equal(findPasswordProblem('q'.repeat(PASSWORD_MAX_LENGTH) + 'w'), 'too_long');
  });

  test('no composition rules: lower-case words and spaces are fine', () => {
    assert.equal(findPasswordProblem('purple monkey dishwasher'), null);
  });

  test('common passwords are refused, however they are capitalised or suffixed', () => {
    for (const common of ['password12345678', 'Qwertyuiop12345', 'Iloveyou1234567', 'PASSWORD1234567890']) {
      assert.equal(findPasswordProblem(common), 'common_password', common);
    }
  });

  test('context words are refused: the product name, the email address and the name', () => {
    assert.equal(findPasswordProblem('latchkeylatchkey'), 'context_word');
    assert.equal(findPasswordProblem('Latchkey2026!!!!'), 'context_word');
    assert.equal(findPasswordProblem('grace.hopper2026', { email: 'grace.hopper@example.org' }), 'context_word');
    assert.equal(findPasswordProblem('Margaret Hamilton 1', { name: 'Margaret Hamilton' }), 'context_word');
    assert.equal(findPasswordProblem('rivers run slowly to the sea', { email: 'ann@example.org', name: 'Ann Sea' }), null);
  });

  test('one repeated character is refused', () => {
    assert.equal(findPasswordProblem('aaaaaaaaaaaaaaaaaaaa'), 'repetitive');
  });
});

describe('password hashing', () => {
  const hasher = createArgon2Hasher();

  test('hashes are argon2id with the OWASP parameters and a unique salt', async () => {
    const a = await hasher.hash('correct horse battery staple');
    const b = await hasher.hash('correct horse battery staple');
    const { memoryCost, timeCost, parallelism } = OWASP_ARGON2ID;
    assert.match(a, new RegExp(`^\\$argon2id\\$v=19\\$m=${memoryCost},t=${timeCost},p=${parallelism}\\$`));
    assert.notEqual(a, b, 'salted');
    const salt = a.split('$')[4]!;
    assert.ok(Buffer.from(salt, 'base64').length >= 16, 'salt of at least 128 bits');
  });

  test('the right password verifies; a truncated or changed one does not', async () => {
    const long = 'x'.repeat(100) + 'the end matters';
    const stored = await hasher.hash(long);
    assert.equal(await hasher.verify(stored, long), true);
    assert.equal(await hasher.verify(stored, long.slice(0, 72)), false);
    assert.equal(await hasher.verify(stored, long.slice(0, -1)), false);
  });

  test('composed and decomposed Unicode verify alike (NFKC)', async () => {
    const composed = 'caf\u00e9 au lait tous les matins';
    const decomposed = 'cafe\u0301 au lait tous les matins';
    assert.notEqual(composed, decomposed);
    const stored = await hasher.hash(composed);
    assert.equal(await hasher.verify(stored, decomposed), true);
  });

  test('a malformed stored hash never verifies', async () => {
    assert.equal(await hasher.verify('not a hash', 'anything'), false);
  });
});

describe('the bounded hasher', () => {
  /** A hasher whose verifications finish when the test says so. */
  function gatedHasher() {
    const gates: Array<() => void> = [];
    const inner = {
      hash: async () => 'h',
      verify: () => new Promise<boolean>((resolve) => gates.push(() => resolve(true))),
    };
    return { inner, open: () => gates.splice(0).forEach((go) => go()), waiting: () => gates.length };
  }

  test('places held by reservations count against the queue, and a released place is free again', async () => {
    const { inner, open, waiting } = gatedHasher();
    const bounded = boundHasher(inner, { maxInFlight: 1, maxQueued: 2 });
    const places = [bounded.reserve!(), bounded.reserve!(), bounded.reserve!()];
    assert.ok(places.every(Boolean), 'one in flight and two queued');
    assert.equal(bounded.reserve!(), null, 'a fourth is refused while three places are held');
    await assert.rejects(bounded.verify('h', 'p'), HasherBusyError, 'so is a plain verification');
    places[2]!.release();
    places[2]!.release();
    const fourth = bounded.reserve!();
    assert.ok(fourth, 'a released place (released once, however often) is free again');
    const results = [places[0]!.verify('h', 'p'), places[1]!.verify('h', 'p'), fourth.verify('h', 'p')];
    fourth.release();
    assert.equal(bounded.reserve!(), null, 'verifying keeps the place until the hash is done');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(waiting(), 1, 'one hash at a time');
    for (let i = 0; i < 3; i++) {
      open();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(await Promise.all(results), [true, true, true]);
    assert.ok(bounded.reserve!(), 'all places free once the hashes are done');
  });
});
