/** Whether a WSGI script file carries the hook's last line. null when it cannot be read. */
import { readTextOrNull } from './quiet-fs.js'

export function scriptHasHook(path: string): boolean | null {
  const text = readTextOrNull(path)
  return text === null ? null : /notify_ready/.test(text)
}
