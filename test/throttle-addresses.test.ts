/**
 * The address throttle counts per network, not per literal address: an IPv6 host gets a
 * whole /64 from its provider and could otherwise take a fresh allowance from each of its
 * addresses. An IPv4 client seen through a dual-stack socket (`::ffff:a.b.c.d`) is the
 * IPv4 client it is.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { addressGroup } from '../src/server/throttle/counters.js';
import { createTestContext, dialects, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';

describe('the network an address counts for', () => {
  test('#62 IPv6 by its /64, IPv4 and IPv4-mapped IPv6 by the IPv4 address', () => {
    assert.equal(addressGroup('2001:db8:1:2:3:4:5:6'), addressGroup('2001:db8:1:2::9'));
    assert.equal(addressGroup('2001:DB8:1:2::ffff:9'), '2001:db8:1:2::/64');
    assert.notEqual(addressGroup('2001:db8:1:2::1'), addressGroup('2001:db8:1:3::1'));
    assert.equal(addressGroup('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(addressGroup('::ffff:c000:201'), '192.0.2.1');
    assert.equal(addressGroup('192.0.2.1'), '192.0.2.1');
    assert.notEqual(addressGroup('192.0.2.1'), addressGroup('192.0.2.2'));
    assert.equal(addressGroup('fe80::1%eth0'), addressGroup('fe80::2'));
  });
});

for (const dialect of dialects()) {
  describe(`the address throttle over HTTP (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      await seedAdmin(ctx, { email: 'grace@example.org' });
    });
    afterEach(() => ctx.close());

    /** Guesses setup links from `remoteAddress` until the address is refused; returns how many were answered first. */
    async function guessLinksUntilRefused(remoteAddress: string): Promise<number> {
      for (let i = 0; i < 50; i++) {
        const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/setup', remoteAddress, headers: { authorization: `Bearer guess${i}.nope` } });
        if (response.statusCode === 429) return i;
        assert.equal(response.statusCode, 404, response.body);
      }
      assert.fail('the address was never throttled');
    }

    const loginFrom = (remoteAddress: string) =>
      ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress, payload: { email: 'grace@example.org', password: STRONG_PASSWORD } });

    test('#62 two addresses in one IPv6 /64 share a lock; an address in another /64 does not', async () => {
      assert.equal(await guessLinksUntilRefused('2001:db8:aa:1::10'), 21, 'the allowance: 20 free guesses, and the one that sets the lock');

      const sibling = await loginFrom('2001:db8:aa:1:ffff:1234:5678:9abc');
      assert.equal(sibling.statusCode, 429, 'the same /64 is refused, right password or not');
      assert.equal(sibling.json().error.code, 'too_many_attempts');
      const link = await ctx.app.inject({ method: 'GET', url: '/api/v1/setup', remoteAddress: '2001:db8:aa:1::11', headers: { authorization: 'Bearer another.guess' } });
      assert.equal(link.statusCode, 429, 'so are its setup-link guesses');

      const neighbour = await loginFrom('2001:db8:aa:2::10');
      assert.equal(neighbour.statusCode, 200, `another /64 logs in: ${neighbour.body}`);
      assert.equal(await guessLinksUntilRefused('2001:db8:aa:2::11'), 21, 'and has an allowance of its own');
    });

    test('#62 an IPv4 client seen as IPv4-mapped IPv6 shares the lock of its IPv4 address', async () => {
      assert.equal(await guessLinksUntilRefused('::ffff:192.0.2.7'), 21);
      assert.equal((await loginFrom('192.0.2.7')).statusCode, 429);
      assert.equal((await loginFrom('192.0.2.8')).statusCode, 200, 'the next IPv4 address is another client');
    });
  });
}
