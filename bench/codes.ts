/**
 * Hands out (administrator, time step) pairs the server will accept. The server takes a
 * code of step T−1, T or T+1 of its own clock, and each authenticator only ever a step
 * above the last one it accepted; so an administrator serves at most three logins in one
 * 30-second window and one per window after that, always in increasing step order. Each
 * administrator is therefore lent to one client at a time, and given the lowest step
 * still safely inside the window.
 */
import * as OTPAuth from 'otpauth';

const PERIOD_MS = 30_000;
/**
 * Step T−1 stops working when the window turns; it is handed out only while this much of
 * the window is left, far more than a login takes at the loads measured here.
 */
const SAFETY_MS = 5_000;

export interface Authenticator {
  email: string;
  secret: OTPAuth.Secret;
  /** The last step handed out: the server's replay floor is at or below it. */
  floor: number;
}

export function totpCode(secret: OTPAuth.Secret, step: number): string {
  return OTPAuth.HOTP.generate({ secret, algorithm: 'SHA1', digits: 6, counter: step });
}

/** The lowest step above `floor` that the server will still accept when the code arrives, or null. */
export function usableStep(floor: number, now = Date.now()): number | null {
  const current = Math.floor(now / PERIOD_MS);
  const leftInWindow = (current + 1) * PERIOD_MS - now;
  const earliest = leftInWindow > SAFETY_MS ? current - 1 : current;
  const step = Math.max(floor + 1, earliest);
  return step <= current + 1 ? step : null;
}

/** The next step's code for an authenticator, spending the step; for enrolment. */
export function spendNextCode(authenticator: Authenticator): string | null {
  const step = usableStep(authenticator.floor);
  if (step === null) return null;
  authenticator.floor = step;
  return totpCode(authenticator.secret, step);
}

export interface Lease {
  authenticator: Authenticator;
  code: string;
}

export class CodeBook {
  private readonly lent = new Set<Authenticator>();
  private cursor = 0;
  /** Time clients spent waiting for a usable pair: non-zero means too few administrators. */
  waitedMs = 0;

  constructor(private readonly authenticators: Authenticator[]) {}

  /** An administrator nobody else is using and a code of theirs the server will accept. */
  async lease(): Promise<Lease> {
    for (;;) {
      const lease = this.tryLease();
      if (lease) return lease;
      const started = Date.now();
      await new Promise((resolve) => setTimeout(resolve, PERIOD_MS - (started % PERIOD_MS) + 50));
      this.waitedMs += Date.now() - started;
    }
  }

  release(lease: Lease): void {
    this.lent.delete(lease.authenticator);
  }

  /** Prefers the lowest step on offer, since T−1 codes expire first; ties go round-robin. */
  private tryLease(): Lease | null {
    const now = Date.now();
    let best: { authenticator: Authenticator; step: number } | null = null;
    const count = this.authenticators.length;
    for (let i = 0; i < count; i++) {
      const authenticator = this.authenticators[(this.cursor + i) % count]!;
      if (this.lent.has(authenticator)) continue;
      const step = usableStep(authenticator.floor, now);
      if (step !== null && (!best || step < best.step)) best = { authenticator, step };
    }
    if (!best) return null;
    this.cursor = (this.authenticators.indexOf(best.authenticator) + 1) % count;
    this.lent.add(best.authenticator);
    best.authenticator.floor = best.step;
    return { authenticator: best.authenticator, code: totpCode(best.authenticator.secret, best.step) };
  }

  /** How many logins the book can serve right now without waiting for the window to turn. */
  available(now = Date.now()): number {
    let total = 0;
    const current = Math.floor(now / PERIOD_MS);
    for (const { floor } of this.authenticators) {
      const first = usableStep(floor, now);
      if (first !== null) total += current + 2 - first;
    }
    return total;
  }
}
