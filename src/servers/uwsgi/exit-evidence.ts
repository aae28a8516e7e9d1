/**
 * What uWSGI's log says about a worker's end (core/master.c, core/uwsgi.c, 2.0): the master logs a
 * worker that died (`DAMN ! worker 2 (pid: 123) died, killed by signal 9`); a worker that ends on
 * purpose (max-requests, reload-on-rss) logs `...The work of process 123 is done. Seeya!`.
 */
import type { EvidenceRule } from '../shared/master-log.js'

export const UWSGI_EXIT_RULES: readonly EvidenceRule[] = [
  { pattern: '\\.\\.\\.The work of process $PID is done\\. Seeya!', kind: 'recycled', detail: 'ended on purpose (max-requests or a memory limit)' },
  { pattern: 'DAMN ! worker \\d+ \\(pid: $PID\\) died, killed by signal (\\d+)', kind: 'crashed', detail: 'killed by signal $1' },
  { pattern: 'DAMN ! worker \\d+ \\(pid: $PID\\) MISTERIOUSLY killed by signal (\\d+)', kind: 'crashed', detail: 'killed by signal $1' },
  { pattern: 'DAMN ! worker \\d+ \\(pid: $PID\\) died :\\(', kind: 'crashed', detail: 'died (uWSGI: DAMN ! worker died)' },
]

/** The master reloading every worker: SIGHUP to it, a chain reload, a binary reload (core/master.c). */
export const UWSGI_RELOAD: readonly RegExp[] = [/\.\.\.gracefully killing workers\.\.\./, /chain reload starting/, /binary reloading uWSGI/]
