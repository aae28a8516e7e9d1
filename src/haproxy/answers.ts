/**
 * What HAProxy's runtime API answers, read without side effects. Every answer ends with an empty
 * line; a `set` that worked answers nothing else. The error answers below are HAProxy 2.6's own
 * words (seen on Debian's haproxy 2.6.12).
 */

export type Problem = 'permission' | 'no-backend' | 'no-server' | 'unknown-command' | 'other'

const KNOWN: ReadonlyArray<[RegExp, Problem]> = [
  // any command above the socket's level, whatever its arguments
  [/^Permission denied\b/, 'permission'],
  // `set server`: "No such backend."; `show servers state`: "Can't find backend."; `show stat`: "No such proxy."
  [/^(No such backend\.|Can't find backend\.|No such proxy\.)/, 'no-backend'],
  [/^No such server\./, 'no-server'],
  // an older HAProxy that lacks the command (it lists the ones it knows)
  [/^Unknown command\b/, 'unknown-command'],
]

/** The answer without its trailing empty line(s). */
export const answerText = (raw: string): string => raw.replace(/\s+$/, '')

/** The first line, which is where HAProxy puts its message. */
export const firstLine = (raw: string): string => answerText(raw).split('\n', 1)[0] ?? ''

/** The problem a non-data answer reports, or null when it is not one of HAProxy's error answers. */
export function problemOf(raw: string): Problem | null {
  const line = firstLine(raw)
  for (const [pattern, problem] of KNOWN) if (pattern.test(line)) return problem
  return null
}

/** A `set` command's answer: null when it worked (nothing but the empty line), else the problem. */
export function setProblem(raw: string): Problem | null {
  if (answerText(raw) === '') return null
  return problemOf(raw) ?? 'other'
}
