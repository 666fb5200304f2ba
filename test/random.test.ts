/**
 * The system's random source (core/ports.ts): short draws come from a pool, long ones
 * straight from the generator. Every draw is fresh and whole, and a pool that runs out is
 * refilled.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCryptoRandom, randomBytes } from '../src/server/core/ports.js';

test('short draws never repeat, across many refills of the pool', () => {
  const random = createCryptoRandom();
  const seen = new Set<string>();
  // 16 bytes at a time, 4 KiB a pool: 2,000 draws empty it about eight times.
  for (let i = 0; i < 2000; i++) seen.add(Buffer.from(randomBytes(random, 16)).toString('hex'));
  assert.equal(seen.size, 2000);
});

test('draws of odd lengths straddle the end of the pool and are still whole', () => {
  const random = createCryptoRandom();
  for (let i = 0; i < 500; i++) {
    const bytes = randomBytes(random, 1 + (i % 64));
    assert.equal(bytes.length, 1 + (i % 64));
  }
  // A run of 64 zero bytes has a chance of 2^-512: a draw that came back unfilled would show here.
  for (let i = 0; i < 100; i++) assert.ok(randomBytes(random, 64).some((byte) => byte !== 0));
});

test('a long draw is filled from the generator, beyond what one call may give', () => {
  const random = createCryptoRandom();
  const big = randomBytes(random, 70_000);
  assert.ok(big.subarray(0, 64).some((b) => b !== 0) && big.subarray(69_936).some((b) => b !== 0), 'both ends filled');
  assert.notDeepEqual(randomBytes(random, 1000), randomBytes(random, 1000));
});
