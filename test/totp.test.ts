import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSecretBox, SealedValueError } from '../src/server/core/secret-box.js';
import { normalizeRecoveryCode, generateRecoveryCodes } from '../src/server/authenticators/recovery-codes/codes.js';
import {
  base32Secret,
  codeAtStep,
  GOOGLE_AUTHENTICATOR_PARAMETERS as GA,
  matchingStep,
  newTotpSecret,
  otpauthUri,
  timeStep,
  type TotpParameters,
} from '../src/server/authenticators/totp/algorithm.js';
import { cryptoRandom, type RandomSource } from '../src/server/core/ports.js';
import { oathtoolTotp } from './support/oathtool.js';
import { totpAt } from './support/totp-codes.js';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'ascii'));

describe('RFC 4226 Appendix D: HOTP test values', () => {
  const secret = ascii('12345678901234567890');
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  for (const [counter, code] of expected.entries()) {
    test(`counter ${counter} → ${code}`, () => assert.equal(codeAtStep(secret, counter, GA), code));
  }
});

describe('RFC 6238 Appendix B: TOTP test values (8 digits, per-hash seeds)', () => {
  const seeds = {
    SHA1: ascii('12345678901234567890'),
    SHA256: ascii('12345678901234567890123456789012'),
    SHA512: ascii('1234567890123456789012345678901234567890123456789012345678901234'),
  } as const;
  const table: Array<[number, string, keyof typeof seeds]> = [
    [59, '94287082', 'SHA1'], [59, '46119246', 'SHA256'], [59, '90693936', 'SHA512'],
    [1111111109, '07081804', 'SHA1'], [1111111109, '68084774', 'SHA256'], [1111111109, '25091201', 'SHA512'],
    [1111111111, '14050471', 'SHA1'], [1111111111, '67062674', 'SHA256'], [1111111111, '99943326', 'SHA512'],
    [1234567890, '89005924', 'SHA1'], [1234567890, '91819424', 'SHA256'], [1234567890, '93441116', 'SHA512'],
    [2000000000, '69279037', 'SHA1'], [2000000000, '90698825', 'SHA256'], [2000000000, '38618901', 'SHA512'],
    [20000000000, '65353130', 'SHA1'], [20000000000, '77737706', 'SHA256'], [20000000000, '47863826', 'SHA512'],
  ];
  for (const [seconds, code, algorithm] of table) {
    test(`T=${seconds}s ${algorithm} → ${code}`, () => {
      const params: TotpParameters = { algorithm, digits: 8, periodSeconds: 30 };
      const step = timeStep(seconds * 1000, 30);
      assert.equal(codeAtStep(seeds[algorithm], step, params), code);
      assert.equal(matchingStep(seeds[algorithm], code, seconds * 1000, params), step);
    });
  }
  test('the time step goes past 32 bits without losing precision', () => {
    assert.equal(timeStep(20000000000 * 1000, 30), 666666666);
    assert.equal(timeStep(2 ** 33 * 30 * 1000, 30), 2 ** 33);
  });
});

describe('the acceptance window: one step either side', () => {
  const secret = ascii('12345678901234567890');
  const now = Date.parse('2026-11-27T12:00:10Z');
  const current = timeStep(now, 30);
  for (const delta of [-1, 0, 1]) {
    test(`the code of step T${delta === 0 ? '' : delta > 0 ? '+1' : '-1'} is accepted`, () => {
      assert.equal(matchingStep(secret, codeAtStep(secret, current + delta, GA), now, GA), current + delta);
    });
  }
  for (const delta of [-2, 2]) {
    test(`the code of step T${delta > 0 ? '+2' : '-2'} (±60 s) is refused`, () => {
      const code = codeAtStep(secret, current + delta, GA);
      // Precondition for a meaningful test: the code is not also the code of a step in the window.
      assert.ok([-1, 0, 1].every((d) => codeAtStep(secret, current + d, GA) !== code));
      assert.equal(matchingStep(secret, code, now, GA), null);
    });
  }
  test('malformed codes never match, whatever the current code is', () => {
    const code = codeAtStep(secret, current, GA);
    for (const bad of ['', '1', '0', '12345', '1234567', '12345678', ` ${code}`, `${code}\n`, `${code.slice(0, 3)} ${code.slice(3)}`, '12345a', '-12345', '1e5', '１２３４５６', '9'.repeat(10_000)]) {
      assert.equal(matchingStep(secret, bad, now, GA), null, JSON.stringify(bad.slice(0, 20)));
    }
  });
});

describe('secrets, URIs and oathtool agreement', () => {
  test('secrets are 20 bytes from the injected random source: 32 base32 characters, no padding', () => {
    const fixed: RandomSource = { fill: (bytes) => bytes.fill(0xab) };
    const secret = newTotpSecret(fixed);
    assert.equal(secret.length, 20);
    const text = base32Secret(secret);
    assert.match(text, /^[A-Z2-7]{32}$/);
    assert.notEqual(base32Secret(newTotpSecret(cryptoRandom)), base32Secret(newTotpSecret(cryptoRandom)));
  });

  test('the otpauth URI is what Google Authenticator reads', () => {
    const secret = newTotpSecret(cryptoRandom);
    const uri = otpauthUri('Latchkey', 'grace+ops@example.org', secret, GA);
    const parsed = new URL(uri);
    assert.equal(parsed.protocol, 'otpauth:');
    assert.equal(parsed.host, 'totp');
    assert.equal(parsed.pathname, '/Latchkey:grace%2Bops%40example.org');
    assert.equal(parsed.searchParams.get('issuer'), 'Latchkey');
    assert.equal(parsed.searchParams.get('secret'), base32Secret(secret));
    assert.equal(parsed.searchParams.get('algorithm'), 'SHA1');
    assert.equal(parsed.searchParams.get('digits'), '6');
    assert.equal(parsed.searchParams.get('period'), '30');
    assert.ok(!uri.includes('='.repeat(1) + '&') && !/secret=[^&]*=/.test(uri), 'no base32 padding');
  });

  test('codes agree with oathtool for random secrets at many instants', () => {
    for (let i = 0; i < 20; i++) {
      const secret = newTotpSecret(cryptoRandom);
      const at = Date.parse('2026-01-01T00:00:00Z') + i * 7_777_777;
      assert.equal(codeAtStep(secret, timeStep(at, 30), GA), oathtoolTotp(base32Secret(secret), at));
    }
  });

  test('the codes the other tests type (otpauth, in process) agree with oathtool and with Latchkey', () => {
    for (let i = 0; i < 20; i++) {
      const secret = newTotpSecret(cryptoRandom);
      const at = Date.parse('2026-11-27T12:00:00Z') + i * 3_333_333;
      const expected = oathtoolTotp(base32Secret(secret), at);
      assert.equal(totpAt(base32Secret(secret), at), expected);
      assert.equal(codeAtStep(secret, timeStep(at, 30), GA), expected);
    }
  });
});

describe('sealing secrets at rest (AES-256-GCM)', () => {
  const key = Buffer.alloc(32, 7);
  const box = createSecretBox(cryptoRandom, key);

  test('a sealed value opens with the same associated data, and shows nothing of the plaintext', () => {
    const sealed = box.seal('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'admin-1');
    assert.ok(!sealed.includes('JBSWY3DP'));
    assert.match(sealed, new RegExp(`^v1\\.${box.keyId}\\.`));
    assert.equal(box.open(sealed, 'admin-1'), 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    assert.notEqual(box.seal('same', 'a'), box.seal('same', 'a'), 'a fresh IV each time');
  });

  test('moved to another admin, tampered with, or under an unknown key, it does not open', () => {
    const sealed = box.seal('secret', 'admin-1');
    assert.throws(() => box.open(sealed, 'admin-2'), SealedValueError);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0]! ^= 1;
    assert.throws(() => box.open([...parts.slice(0, 3), body.toString('base64url')].join('.'), 'admin-1'), SealedValueError);
    const other = createSecretBox(cryptoRandom, Buffer.alloc(32, 9));
    assert.throws(() => other.open(sealed, 'admin-1'), SealedValueError);
  });

  test('after rotation, values sealed under the previous key still open', () => {
    const sealed = box.seal('secret', 'admin-1');
    const rotated = createSecretBox(cryptoRandom, Buffer.alloc(32, 9), [key]);
    assert.equal(rotated.open(sealed, 'admin-1'), 'secret');
  });
});

describe('recovery codes', () => {
  test('ten codes of 16 characters (80 bits) in groups of four, all different', () => {
    const codes = generateRecoveryCodes(cryptoRandom);
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, /^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/);
  });
  test('case, spaces and dashes are ignored; I, L and O read as 1, 1 and 0', () => {
    assert.equal(normalizeRecoveryCode('ABCD-EFGH-JKMN-PQRS'), 'abcdefghjkmnpqrs');
    assert.equal(normalizeRecoveryCode(' abcd efgh jkmn pqrs '), 'abcdefghjkmnpqrs');
    assert.equal(normalizeRecoveryCode('IL0O-0000-0000-0000'), '1100000000000000');
    assert.equal(normalizeRecoveryCode('abcd-efgh'), null);
    assert.equal(normalizeRecoveryCode('uuuu-uuuu-uuuu-uuuu'), null);
  });
});
