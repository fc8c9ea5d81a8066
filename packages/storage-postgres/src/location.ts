/**
 * A PostgreSQL URL as it may be shown (logs, messages): the password is
 * replaced, whatever else the URL says. An unparseable URL is not shown at
 * all, since its password cannot be told apart.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
