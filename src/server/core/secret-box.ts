/**
 * Encryption at rest for TOTP seeds and queued mail: AES-256-GCM with a random 96-bit IV,
 * the owning row's id as associated data (a sealed value moved to another row does not
 * open), and the key's id in the envelope so the key can be rotated later.
 *
 * Envelope: `v1.{keyId}.{iv}.{ciphertext‖tag}` (base64url).
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config.js';
import { randomBytes, type RandomSource } from './ports.js';

export interface SecretBox {
  /** The current key's id: what `seal` uses. */
  readonly keyId: string;
  /** The ids of every key `open` tries: the current one first, then LATCHKEY_SECRET_KEY_PREVIOUS. */
  readonly keyIds: readonly string[];
  seal(plaintext: string, associatedData: string): string;
  /** The plaintext, or throws `SealedValueError` when the value is damaged, moved, or sealed under an unknown key. */
  open(sealed: string, associatedData: string): string;
}

export class SealedValueError extends Error {}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

export function createSecretBox(random: RandomSource, currentKey: Buffer, previousKeys: Buffer[] = []): SecretBox {
  if (currentKey.length !== 32) throw new Error('the secret key must be 32 bytes');
  const keys = new Map([currentKey, ...previousKeys].map((key) => [keyIdOf(key), key]));
  const keyId = keyIdOf(currentKey);
  return {
    keyId,
    keyIds: [...keys.keys()],
    seal(plaintext, associatedData) {
      const iv = Buffer.from(randomBytes(random, 12));
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv);
      cipher.setAAD(Buffer.from(associatedData, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `v1.${keyId}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed, associatedData) {
      const [version, id, ivText, bodyText] = sealed.split('.');
      const key = id === undefined ? undefined : keys.get(id);
      if (version !== 'v1' || !key || !ivText || !bodyText) throw new SealedValueError('not a sealed value of this key ring');
      const body = Buffer.from(bodyText, 'base64url');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'));
        decipher.setAAD(Buffer.from(associatedData, 'utf8'));
        decipher.setAuthTag(body.subarray(body.length - 16));
        return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
      } catch {
        throw new SealedValueError('the sealed value does not open (damaged, or sealed for another row)');
      }
    },
  };
}

/**
 * The key from LATCHKEY_SECRET_KEY, or from `{dataDir}/secret.key`, which the first start
 * creates with mode 0600. Two processes starting at once agree: only one file is created.
 */
export function loadSecretKey(
  configured: string | null,
  dataDir: string,
  random: RandomSource,
): { key: Buffer; source: string } {
  if (configured) return { key: Buffer.from(configured, 'base64'), source: 'LATCHKEY_SECRET_KEY' };
  const file = path.join(dataDir, 'secret.key');
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${Buffer.from(randomBytes(random, 32)).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  refuseOpenKeyFile(file);
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return { key, source: file };
}

/**
 * A key file other accounts can read is refused, not quietly made private: someone may
 * already hold a copy, and the person running the server must decide what that means.
 */
function refuseOpenKeyFile(file: string): void {
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  throw new ConfigError([
    `${file} is open to other accounts on this machine (mode ${mode.toString(8).padStart(4, '0')}); Latchkey uses the key only when it is private. ` +
      `Make it so with: chmod 600 ${file}. ` +
      'While it was open it may have been copied, and a copy with the database opens the sealed TOTP seeds: ' +
      'if you cannot rule that out, have each administrator enrol again (latchkey admin reset-mfa --email E).',
  ]);
}
