/**
 * One-time passwords as an authenticator app computes them, by the otpauth library: an
 * implementation Latchkey's own algorithm (authenticators/totp/algorithm.ts) is not, in
 * process, so a test pays microseconds a code. test/totp.test.ts cross-checks both against
 * Debian's oathtool and the RFC 6238 vectors.
 */
import { Secret, TOTP } from 'otpauth';

/** The Google Authenticator code (SHA-1, 6 digits, 30 s) of a base32 key at `atMs`. */
export function totpAt(base32Secret: string, atMs: number): string {
  return new TOTP({ secret: Secret.fromBase32(base32Secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: atMs });
}
