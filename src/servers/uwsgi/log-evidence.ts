/** What uWSGI's log says about one worker since it was spawned: a failed app load, an exception, the hook's line. */
import { HOOK_LOG_PREFIX } from '../shared/log-tail.js'

export interface UwsgiLogEvidence {
  failure: string | null
  exception: string | null
  hook: string | null
}

export function uwsgiEvidence(text: string, pid: number): UwsgiLogEvidence {
  const out: UwsgiLogEvidence = { failure: null, exception: null, hook: null }
  const lines = text.split('\n')
  const spawnRe = new RegExp(`(Respawned uWSGI worker \\d+ \\(new pid: ${pid}\\))|(spawned uWSGI worker \\d+ \\(pid: ${pid},)`)
  let start = -1
  lines.forEach((l, i) => {
    if (spawnRe.test(l)) start = i
  })
  if (start < 0) return out
  for (const line of lines.slice(start + 1)) {
    if (/unable to load app|no app loaded|failed loading app|GAME OVER/.test(line)) out.failure = line.trim()
    else if (line.startsWith(HOOK_LOG_PREFIX) && line.includes(`pid ${pid} `)) out.hook = line.slice(HOOK_LOG_PREFIX.length)
    else if (/^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)(: |$)/.test(line)) out.exception = line.trim()
  }
  return out
}
