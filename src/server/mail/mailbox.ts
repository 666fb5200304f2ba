/**
 * Reads the local mailbox folder (the `.eml` files written when no LATCHKEY_SMTP_URL is
 * set) for `latchkey mail list` and `latchkey mail show`. The files are standard MIME, so
 * their text part is quoted-printable and a link in it does not `grep`; this decodes it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { simpleParser, type AddressObject } from 'mailparser';

export interface MailboxMessage {
  /** The file's name in the folder. */
  file: string;
  date: Date | null;
  from: string;
  to: string;
  subject: string;
  /** The decoded text part. */
  text: string;
}

/** No mail to list or show; the message says which folder was read. */
export class MailboxError extends Error {}

const addresses = (value: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(value) ? value : value ? [value] : []).map((a) => a.text).join(', ');

async function readMessage(folder: string, file: string): Promise<MailboxMessage> {
  const parsed = await simpleParser(await fs.readFile(path.join(folder, file)));
  return {
    file,
    date: parsed.date ?? null,
    from: addresses(parsed.from),
    to: addresses(parsed.to),
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
  };
}

const sentTo = (message: MailboxMessage, email: string) =>
  message.to.toLowerCase().split(/[\s,<>]+/).includes(email.toLowerCase());

/** The messages in the folder, oldest first, only those to `to` when given. */
export async function listMailbox(folder: string, to?: string): Promise<MailboxMessage[]> {
  let names: string[];
  try {
    names = (await fs.readdir(folder)).filter((name) => name.endsWith('.eml'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    names = [];
  }
  if (names.length === 0) throw new MailboxError(`No mail in ${folder}.`);
  const messages = await Promise.all(names.map((name) => readMessage(folder, name)));
  messages.sort((a, b) => (a.date?.getTime() ?? 0) - (b.date?.getTime() ?? 0) || a.file.localeCompare(b.file));
  const chosen = to === undefined ? messages : messages.filter((message) => sentTo(message, to));
  if (chosen.length === 0) throw new MailboxError(`No mail to ${to} in ${folder}.`);
  return chosen;
}

/** One message by its file name (as `mail list` shows it). */
export async function readMailboxMessage(folder: string, file: string): Promise<MailboxMessage> {
  const name = path.basename(file);
  if (!name.endsWith('.eml')) throw new MailboxError(`No message ${file} in ${folder}; mail list shows the file names.`);
  try {
    return await readMessage(folder, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MailboxError(`No message ${file} in ${folder}; mail list shows the file names.`);
    throw error;
  }
}
