/**
 * Keeps the mail server's credentials out of what Latchkey stores and shows about a failed
 * send: an error from the transport may quote the server's address with its user and
 * password, or the password alone.
 */
export function withoutCredentials(text: string, smtpUrl: string | null): string {
  // Any URL's user information, whoever wrote it.
  let clean = text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1');
  if (smtpUrl && URL.canParse(smtpUrl)) {
    const url = new URL(smtpUrl);
    const secrets = new Set<string>();
    for (const part of [url.password, url.username]) {
      if (part === '') continue;
      secrets.add(part);
      try {
        secrets.add(decodeURIComponent(part));
      } catch {
        // Not valid percent-encoding: the raw form is all there is.
      }
    }
    // The longest first, so that a user name inside the password leaves nothing behind.
    for (const secret of [...secrets].sort((a, b) => b.length - a.length)) clean = clean.split(secret).join('[redacted]');
  }
  return clean;
}
