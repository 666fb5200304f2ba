/** Codes computed by Debian's oathtool: an implementation Latchkey did not write. */
import { execFileSync } from 'node:child_process';

export function oathtoolTotp(base32Secret: string, atMs: number): string {
  return execFileSync('oathtool', ['--totp', '--base32', base32Secret, '--now', `@${Math.floor(atMs / 1000)}`], {
    encoding: 'utf8',
  }).trim();
}
