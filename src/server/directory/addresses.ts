/**
 * An administrator's email is a plain address (an RFC 5322 addr-spec), stored in one
 * canonical form: the local part lower-cased, the domain in its ASCII (punycode) form.
 * Everything else is refused with `invalid_email`: display names, angle brackets, groups,
 * lists, quotes, comments, IP literals, source routes and look-alike mixed scripts
 * (docs/decisions/005-plain-admin-addresses.md).
 */
import { domainToASCII, domainToUnicode } from 'node:url';
import { DomainError } from '../core/errors.js';

/** RFC 5321 §4.5.3.1: 64 octets of local part; a path of 256 leaves 254 for the address. */
export const LOCAL_PART_MAX_OCTETS = 64;
export const ADDRESS_MAX_OCTETS = 254;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/**
 * Dot-atom of the characters real mailboxes use. Left out of RFC 5322's atext on purpose:
 * `%` and `!` (relay routing), `=` and `?` (MIME encoded words), `/ | { } ~ ^ * & $ # \``.
 */
const LOCAL_PART = /^[a-z0-9_+'-]+(?:\.[a-z0-9_+'-]+)*$/;
/** The characters a domain may be typed with: ASCII letters, digits, dots, hyphens, or any non-ASCII letter. */
const DOMAIN_INPUT = /^(?:[a-z0-9.-]|[^\u0000-\u007f\s\p{Cc}\p{Cf}\p{Z}])+$/u;

/**
 * Scripts told apart in a domain label. A letter of a script not listed counts as "other".
 * Common and Inherited characters (digits, hyphen, combining marks) belong to every script.
 */
const SCRIPTS = [
  'Latin', 'Greek', 'Cyrillic', 'Armenian', 'Georgian', 'Cherokee', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Nko',
  'Devanagari', 'Bengali', 'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala',
  'Thai', 'Lao', 'Tibetan', 'Myanmar', 'Khmer', 'Mongolian', 'Ethiopic', 'Tifinagh', 'Canadian_Aboriginal',
  'Han', 'Hiragana', 'Katakana', 'Bopomofo', 'Hangul', 'Yi',
].map((name) => ({ name, pattern: new RegExp(`^\\p{Script=${name}}$`, 'u') }));
const COMMON = /^[\p{Script=Common}\p{Script=Inherited}]$/u;

/** UTS #39 "highly restrictive": one script, or Latin with the scripts written together with Han. */
const ALLOWED_MIXES = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

function scriptsOf(text: string): Set<string> {
  const found = new Set<string>();
  for (const char of text) {
    if (COMMON.test(char)) continue;
    found.add(SCRIPTS.find((s) => s.pattern.test(char))?.name ?? 'other');
  }
  return found;
}

export function mixesScripts(label: string): boolean {
  const scripts = scriptsOf(label);
  if (scripts.size <= 1) return false;
  return !ALLOWED_MIXES.some((allowed) => [...scripts].every((s) => allowed.has(s)));
}

function refuse(message: string): never {
  throw new DomainError('invalid_email', message, 'email');
}

/**
 * The canonical form of an administrator's address, or `invalid_email` saying what is wrong.
 * An internationalised domain and its punycode form give the same result.
 */
export function canonicalEmail(input: string): string {
  const text = input.trim();
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1 || text.indexOf('@') !== at) {
    refuse('Enter one plain email address such as ada@example.org, without a name or angle brackets.');
  }
  const local = text.slice(0, at).toLowerCase();
  const domainInput = text.slice(at + 1).toLowerCase();
  if (!LOCAL_PART.test(local)) {
    refuse(
      /[^\u0000-\u007f]/.test(local)
        ? 'The part before @ must use plain letters a to z, digits and . _ + - \' only: other alphabets are refused, since not every mail server takes them and they let one address pass for another.'
        : 'Enter one plain email address such as ada@example.org: no name, angle brackets, quotes, commas, colons, semicolons or spaces.',
    );
  }
  if (Buffer.byteLength(local) > LOCAL_PART_MAX_OCTETS) refuse(`The part before @ must be at most ${LOCAL_PART_MAX_OCTETS} characters.`);
  const domain = DOMAIN_INPUT.test(domainInput) ? domainToASCII(domainInput) : '';
  const labels = domain.split('.');
  if (domain === '' || labels.length < 2 || !labels.every((label) => LABEL.test(label)) || /^[0-9]+$/.test(labels.at(-1)!)) {
    refuse('The part after @ must be a domain name such as example.org.');
  }
  for (const label of domainToUnicode(domain).split('.')) {
    if (mixesScripts(label)) refuse('The part after @ mixes alphabets (such as Latin and Cyrillic), which lets one address pass for another.');
  }
  const address = `${local}@${domain}`;
  if (address.length > ADDRESS_MAX_OCTETS) refuse(`The address must be at most ${ADDRESS_MAX_OCTETS} characters once its domain is written in ASCII.`);
  return address;
}

/** Whether `address` is already a canonical plain address (what mail may be sent to). */
export function isCanonicalEmail(address: string): boolean {
  try {
    return canonicalEmail(address) === address;
  } catch {
    return false;
  }
}
