/** `KEY=VALUE` entries (Gunicorn raw_env and -e, uWSGI env) -> variables; an entry without a name is skipped. */
export function envFromAssignments(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const e of entries) {
    const eq = e.indexOf('=')
    if (eq > 0) out[e.slice(0, eq)] = e.slice(eq + 1)
  }
  return out
}
