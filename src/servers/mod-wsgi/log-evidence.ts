/** What Apache's error log says about one daemon process: a script that failed to load, the hook's own line. */
import { HOOK_LOG_PREFIX } from '../shared/log-tail.js'

export interface LogEvidence {
  failedScript: string | null
  exception: string | null
  hook: string | null
  loading: string | null
}

const LOG_PREFIX = /^\[[^\]]*\] \[[^\]]*\] \[pid (\d+)(?::tid \d+)?\] (?:\[(?:remote|client) [^\]]*\] )?/

export function evidenceFor(text: string, pid: number): LogEvidence {
  const out: LogEvidence = { failedScript: null, exception: null, hook: null, loading: null }
  let inTraceback = false
  for (const line of text.split('\n')) {
    const m = LOG_PREFIX.exec(line)
    if (!m || Number(m[1]) !== pid) continue
    const msg = line.slice(m[0].length)
    const failed = /Failed to exec Python script file '([^']+)'/.exec(msg)
    if (failed) out.failedScript = failed[1] as string
    const loading = /Loading Python script file '([^']+)'/.exec(msg)
    if (loading) out.loading = loading[1] as string
    if (msg.startsWith(HOOK_LOG_PREFIX)) out.hook = msg.slice(HOOK_LOG_PREFIX.length)
    if (msg.startsWith('Traceback (most recent call last)')) inTraceback = true
    else if (inTraceback && /^[A-Za-z_][\w.]*(: |$)/.test(msg)) {
      out.exception = msg
      inTraceback = false
    }
  }
  return out
}
