/** The key as the apps' "enter a setup key" screens show it: groups of four. */
export function groupKey(secret: string): string {
  return secret.match(/.{1,4}/g)?.join(' ') ?? secret;
}
