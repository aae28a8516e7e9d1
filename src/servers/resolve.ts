/**
 * `--server auto|gunicorn|uvicorn|mod_wsgi|uwsgi` plus the target options -> one adapter and its target.
 * auto asks every adapter and insists on exactly one answer. An adapter is loaded only when asked
 * (`--server gunicorn` never loads the other three).
 */
import { TargetError, UsageError } from '../errors.js'
import type { ServerKind } from '../config.js'
import type { ServerAdapter, Target, TargetOptions } from './types.js'

const LOADERS: Record<ServerKind, () => Promise<ServerAdapter>> = {
  gunicorn: async () => (await import('./gunicorn/index.js')).gunicorn,
  uvicorn: async () => (await import('./uvicorn/index.js')).uvicorn,
  mod_wsgi: async () => (await import('./mod-wsgi/index.js')).modWsgi,
  uwsgi: async () => (await import('./uwsgi/index.js')).uwsgi,
}

/** The adapter of one server kind, loaded on first use. */
export function loadAdapter(kind: ServerKind): Promise<ServerAdapter> {
  return LOADERS[kind]()
}

export interface Resolved {
  adapter: ServerAdapter
  target: Target
  /** how auto decided, for the log: `auto: Gunicorn (title "gunicorn: master [app]")` */
  picked: string
}

export function describeTargetFlags(opts: TargetOptions): string {
  if (opts.master !== undefined) return `--master ${opts.master}`
  if (opts.pidfile !== undefined) return `--pidfile ${opts.pidfile}`
  if (opts.group === undefined && opts.apachePidfile !== undefined) return `--apache-pidfile ${opts.apachePidfile}`
  return `--group ${opts.group}`
}

export function validateTargetOptions(opts: TargetOptions): void {
  const given = [opts.group !== undefined, opts.pidfile !== undefined, opts.master !== undefined, opts.apachePidfile !== undefined].filter(Boolean).length
  if (given === 0) {
    throw new UsageError('name the server: --group NAME (e.g. --group app:blue), --pidfile FILE or --master PID')
  }
  if (opts.pidfile !== undefined && opts.master !== undefined) {
    throw new UsageError('--pidfile and --master both name the master: give only one')
  }
  if (opts.apachePidfile !== undefined && (opts.pidfile !== undefined || opts.master !== undefined)) {
    throw new UsageError('--apache-pidfile and --pidfile/--master all name the Apache parent: give only one')
  }
  if (opts.apachePidfile !== undefined && opts.server !== 'auto' && opts.server !== 'mod_wsgi') {
    throw new UsageError(`--apache-pidfile is for Apache mod_wsgi groups, not --server ${opts.server}: drop one of the two`)
  }
}

export async function resolveTarget(opts: TargetOptions): Promise<Resolved> {
  validateTargetOptions(opts)
  // --apache-pidfile can only mean mod_wsgi
  const kinds: ServerKind[] = opts.server !== 'auto' ? [opts.server] : opts.apachePidfile !== undefined ? ['mod_wsgi'] : (Object.keys(LOADERS) as ServerKind[])
  const adapters = new Map(await Promise.all(kinds.map(async (k) => [k, await loadAdapter(k)] as const)))
  const found: Resolved[] = []
  for (const kind of kinds) {
    const adapter = adapters.get(kind) as ServerAdapter
    const target = adapter.resolve(opts)
    if (target) {
      found.push({
        adapter,
        target,
        picked:
          (opts.server === 'auto' ? `auto picked ${adapter.label}: ${target.description}` : `${adapter.label}: ${target.description}`) +
          (typeof target.meta.found === 'string' ? ` (${target.meta.found})` : ''),
      })
    }
  }
  if (found.length === 1) return found[0] as Resolved
  const what = describeTargetFlags(opts)
  if (found.length > 1) {
    throw new TargetError(
      `${what} matches more than one server: ${found.map((f) => f.target.description).join('; ')}. Say which with --server ${found.map((f) => f.adapter.kind).join('|')}`,
      'ambiguous',
    )
  }
  const servers = kinds.map((k) => (adapters.get(k) as ServerAdapter).label).join(', ')
  const hints: string[] = []
  if (opts.group !== undefined) {
    const generic: Record<ServerKind, string> = {
      gunicorn: `a Gunicorn master titled 'gunicorn: master [${opts.group}]'`,
      uvicorn: `a Uvicorn supervisor (uvicorn APP --workers N) named ${opts.group}`,
      mod_wsgi: `mod_wsgi daemon processes titled '(wsgi:${opts.group})' (is display-name=%{GROUP} set on WSGIDaemonProcess ${opts.group}?)`,
      uwsgi: `a uWSGI master named ${opts.group} (procname-master)`,
    }
    // an adapter that can say more (what runs instead, what the configuration lacks) says it
    for (const k of kinds) hints.push((adapters.get(k) as ServerAdapter).notFoundHint?.(opts) ?? generic[k])
  }
  throw new TargetError(
    `no ${servers} group found for ${what}` + (hints.length ? `. Looked for ${hints.join('; ')}. Or name the master with --pidfile FILE or --master PID` : ''),
    'not-found',
  )
}
