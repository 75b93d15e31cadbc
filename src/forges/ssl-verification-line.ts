/** The "SSL verification" line of a forge's webhook form: only an https:// payload URL can enable it. */
export function sslVerificationLine(hookUrl: string): string {
  return hookUrl.startsWith('https://')
    ? '  SSL verification: enabled'
    : '  SSL verification: not applicable to an http:// URL (payloads travel unencrypted; use https:// for a real forge)';
}
