/**
 * A software authenticator for the passkey tests: an ES256 (P-256) key pair made with
 * node:crypto, answering registration and assertion ceremonies as a browser would pass
 * them on (the JSON of @simplewebauthn/browser). Knobs for the RP ID, the origin, the
 * challenge and the signature counter let a test forge what an attacker could.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { encodeCBOR, type CBORType } from '@levischuck/tiny-cbor';

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');

export interface CeremonyKnobs {
  /** The challenge to sign; by default the one in the options. */
  challenge?: string;
  /** The RP ID whose hash goes into the authenticator data; by default the options' one. */
  rpId?: string;
  /** The origin the "browser" writes into the client data. */
  origin?: string;
}

export interface AssertionKnobs extends CeremonyKnobs {
  /** The counter to report; by default one more than the last reported. */
  counter?: number;
}

export class SoftwareAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly privateKey: KeyObject;
  private readonly cosePublicKey: Uint8Array;
  /** The last counter this authenticator reported. */
  counter: number;

  constructor(
    private readonly defaults: { rpId: string; origin: string },
    options: { counter?: number } = {},
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.cosePublicKey = encodeCBOR(
      new Map<number, CBORType>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
      ]),
    );
    this.counter = options.counter ?? 0;
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  private clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  private authenticatorData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([createHash('sha256').update(rpId).digest(), Buffer.from([flags]), count, attested ?? Buffer.alloc(0)]);
  }

  /** The answer to `navigator.credentials.create` for these options (attestation `none`). */
  register(options: { challenge: string; rp: { id?: string } }, knobs: CeremonyKnobs = {}) {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), length, this.credentialId, Buffer.from(this.cosePublicKey)]);
    const authData = this.authenticatorData(knobs.rpId ?? options.rp.id ?? this.defaults.rpId, FLAG_UP | FLAG_UV | FLAG_AT, this.counter, attested);
    const attestationObject = encodeCBOR(
      new Map<string, CBORType>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, CBORType>()],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    const clientDataJSON = this.clientData('webauthn.create', knobs.challenge ?? options.challenge, knobs.origin ?? this.defaults.origin);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal', 'hybrid'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** The answer to `navigator.credentials.get` for these options, signed with this key. */
  assert(options: { challenge: string; rpId?: string }, knobs: AssertionKnobs = {}) {
    const counter = knobs.counter ?? this.counter + 1;
    this.counter = counter;
    const authData = this.authenticatorData(knobs.rpId ?? options.rpId ?? this.defaults.rpId, FLAG_UP | FLAG_UV, counter);
    const clientDataJSON = this.clientData('webauthn.get', knobs.challenge ?? options.challenge, knobs.origin ?? this.defaults.origin);
    const signature = sign('sha256', Buffer.concat([authData, createHash('sha256').update(clientDataJSON).digest()]), this.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authData), signature: b64url(signature) },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
