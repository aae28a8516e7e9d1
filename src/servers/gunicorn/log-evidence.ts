/**
 * What Gunicorn's error log says about a worker's end (gunicorn/arbiter.py, workers/sync.py, 20.1
 * and 26.x): the master logs a worker killed by a signal, a timeout, or (26.x) an exit code; a
 * worker logs that it restarts on max_requests. Lines carry the logging process's pid in brackets:
 * `[2026-12-01 06:50:25 +0000] [1234] [INFO] Autorestarting worker after current request.`
 */
import type { EvidenceRule } from '../shared/master-log.js'

export const GUNICORN_EXIT_RULES: readonly EvidenceRule[] = [
  { pattern: '\\[$PID\\] \\[INFO\\] Autorestarting worker after current request', kind: 'recycled', detail: 'restarted after max_requests' },
  { pattern: 'Worker with pid $PID was terminated due to signal (\\d+)', kind: 'crashed', detail: 'terminated by signal $1' },
  { pattern: 'Worker \\(pid:$PID\\) exited with code ([1-9]\\d*)', kind: 'crashed', detail: 'exited with code $1' },
  { pattern: 'Worker \\(pid:$PID\\) was sent (SIG\\w+)', kind: 'crashed', detail: 'killed by the master with $1' },
  { pattern: 'WORKER TIMEOUT \\(pid:$PID\\)', kind: 'crashed', detail: 'killed by the master after --timeout (WORKER TIMEOUT)' },
]

/**
 * The arbiter logs every signal it handles (`Handling signal: hup`). HUP reloads: N new workers,
 * then the old ones are stopped. USR2 starts a new master; WINCH (daemonized) stops the workers.
 * TTIN and TTOU, which a surge sends, are not reloads.
 */
export const GUNICORN_RELOAD: readonly RegExp[] = [/\[INFO\] Handling signal: (hup|usr2|winch)\b/]
