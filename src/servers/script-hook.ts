/** Whether a WSGI script file carries the hook's last line. null when it cannot be read. */
import { readFileSync } from 'node:fs'

export function scriptHasHook(path: string): boolean | null {
  try {
    return /notify_ready/.test(readFileSync(path, 'utf8'))
  } catch {
    return null
  }
}
