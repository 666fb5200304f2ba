/**
 * Where mail goes: an SMTP server (LATCHKEY_SMTP_URL, through nodemailer), or, with none
 * configured, `.eml` files in the local mailbox folder that any mail program opens.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { isCanonicalEmail } from '../directory/addresses.js';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
}

export interface MailTransport {
  /** For the log: "smtp://host:port" (never the credentials) or the mailbox folder. */
  readonly description: string;
  /** Resolves with where the message went; rejects with the transport's error. */
  send(mail: OutgoingMail): Promise<string>;
  close(): void;
}

/**
 * What nodemailer is handed: the headers, and the envelope set explicitly to the one stored
 * address, given as an address (never a string to parse), so that whatever the To header
 * says the message goes there alone. An address that is not a plain one is never sent to.
 */
function message(mail: OutgoingMail) {
  if (!isCanonicalEmail(mail.to)) throw new Error('the recipient is not a plain email address; the message was not sent');
  return {
    ...mail,
    messageId: `<${mail.messageId}@latchkey>`,
    envelope: { from: mail.from, to: [{ name: '', address: mail.to }] },
  };
}

export function createSmtpTransport(smtpUrl: string): MailTransport {
  const url = new URL(smtpUrl);
  // One connection kept open and reused: a backlog goes out at the mail server's pace, not
  // at one TCP and SMTP handshake per message (about 30 times faster on loopback).
  const transporter = nodemailer.createTransport({ url: smtpUrl, pool: true, maxConnections: 1 });
  return {
    description: `${url.protocol}//${url.host}`,
    async send(mail) {
      const info = await transporter.sendMail(message(mail));
      return `${url.protocol}//${url.host} (${String(info.response ?? 'accepted')})`;
    },
    close: () => transporter.close(),
  };
}

export function createMailboxTransport(folder: string): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    description: folder,
    async send(mail) {
      const info = await transporter.sendMail(message(mail));
      await fs.mkdir(folder, { recursive: true, mode: 0o700 });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = path.join(folder, `${stamp}-${mail.messageId}.eml`);
      // The mailbox may hold setup links: readable by the server's user only.
      await fs.writeFile(file, info.message as Buffer, { mode: 0o600 });
      return file;
    },
    close: () => transporter.close(),
  };
}

export function mailboxFolder(dataDir: string): string {
  return path.join(dataDir, 'mailbox');
}
