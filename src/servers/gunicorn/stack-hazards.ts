/**
 * What the stacks people install put in the way of a roll, as far as the config file, the command
 * line and the environment show it: an ASGI app under a WSGI worker class, gevent/eventlet/tornado
 * workers with keep-alive on (the hook closes their connections but cannot drain them), and a
 * config whose own post_worker_init never calls the hook.
 */
import { readCwd } from '../../proc/procfs.js'
import { asgiMarker } from '../shared/asgi-source.js'
import { appSourceFile } from '../shared/python-module.js'
import { readTextOrNull } from '../shared/quiet-fs.js'
import type { Hazard, Target } from '../types.js'
import { appSpec } from './app-spec.js'
import { source } from './settings-of.js'
import type { GunicornSettings } from './settings.js'

/** -k as Gunicorn resolves it: a short name (`gthread`, `asgi`), `egg:gunicorn#NAME`, or a class path. */
export type WorkerKind = 'asgi' | 'no-drain' | 'wsgi'

export function workerKind(workerClass: string): WorkerKind {
  const k = workerClass.toLowerCase().replace(/^egg:gunicorn#/, '')
  if (/uvicorn|asgi/.test(k)) return 'asgi'
  if (/gevent|eventlet|tornado/.test(k)) return 'no-drain'
  return 'wsgi'
}

function asgiUnderWsgi(target: Target, settings: GunicornSettings): Hazard | null {
  const workerClass = settings.workerClass.value
  if (workerClass === null || workerKind(workerClass) !== 'wsgi') return null
  const app = appSpec(target)
  const file = app ? appSourceFile(app, readCwd(target.masterPid) ?? '/', settings.envPythonpath ?? []) : null
  const what = file ? asgiMarker(readTextOrNull(file) ?? '') : null
  if (!what) return null
  return {
    id: 'asgi-app-wsgi-worker',
    severity: 'error',
    message: `${target.description} serves ${app?.spec} (${file}: ${what}) with the WSGI worker class ${workerClass} (${source(settings.workerClass, settings)}): every request fails, and every new worker reports READY=0`,
    fix: 'run it with -k uvicorn.workers.UvicornWorker (worker_class in the config), or on Gunicorn 26 with -k asgi, and restart the master once',
  }
}

function keepaliveWithoutDrain(target: Target, settings: GunicornSettings): Hazard | null {
  const workerClass = settings.workerClass.value
  const keepalive = settings.keepalive.value
  if (workerClass === null || workerKind(workerClass) !== 'no-drain' || keepalive === null || keepalive <= 0) return null
  return {
    id: 'keepalive-no-drain',
    severity: 'warning',
    message:
      `${target.description} runs ${workerClass} workers with keep-alive on (keepalive = ${keepalive} s, ${source(settings.keepalive, settings)}): ` +
      'during a roll the hook makes their responses say Connection: close, but cannot drain them, so a client reusing a keep-alive connection just as its worker stops can get a reset',
    fix: 'set keepalive = 0 (--keep-alive 0) for these workers, or use -k gthread, which the hook drains; or make clients retry idempotent requests',
  }
}

/** A config file whose own post_worker_init (a def, or an assignment) does not call notify_worker. */
export function customHookHazard(configFile: string, text: string): Hazard | null {
  const own = /^(def\s+post_worker_init\s*\(|post_worker_init\s*=(?!.*rolling_restart_hook))/m
  if (!own.test(text) || /\bnotify_worker\s*\(/.test(text)) return null
  return {
    id: 'post-worker-init-without-hook',
    severity: 'warning',
    message:
      `${configFile} defines its own post_worker_init, which never calls notify_worker(worker): new workers send no readiness datagram ` +
      '(every step would time out) and get neither Connection: close nor the keep-alive drain',
    fix: 'call `rolling_restart_hook.gunicorn.notify_worker(worker)` at the end of that post_worker_init',
  }
}

export function stackHazards(target: Target, settings: GunicornSettings): Hazard[] {
  return [asgiUnderWsgi(target, settings), keepaliveWithoutDrain(target, settings)].filter((h): h is Hazard => h !== null)
}
