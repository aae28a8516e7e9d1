/**
 * uWSGI's options as the hook recorded them (uwsgi.opt, proc/master-record.ts) when the app was
 * loaded: complete even when `procname-master` hides the master's command line, ini files
 * included. uwsgi.opt keeps one value of a repeated option (seen with 2.0.21: two `pythonpath`
 * lines, one value), so the import path the app ran with fills in the other `pythonpath` entries.
 */
import { masterRecord, type MasterRecord } from '../../proc/master-record.js'
import { emptyOptions, type UwsgiOptions } from './options.js'

/** Python's own directories on sys.path: not the server's pythonpath. */
const PYTHON_OWN = /\/python3(\.\d+)?(\/|\.zip$|$)|\/python3\d+\.zip$|\/(site|dist)-packages(\/|$)|\/lib-dynload$/

export function optionsFromRecord(r: MasterRecord): UwsgiOptions | null {
  if (!r.uwsgi) return null
  const o = emptyOptions()
  o.sources.push(`uwsgi.opt, as recorded by the hook when the app was loaded (${r.from})`)
  const put = (name: string, value: string) => {
    const key = name.toLowerCase().replace(/_/g, '-')
    o.values.set(key, [...(o.values.get(key) ?? []), value])
  }
  for (const [name, v] of Object.entries(r.uwsgi)) for (const x of Array.isArray(v) ? v : [v]) put(name, x === true ? 'true' : x)
  const listed = new Set(o.values.get('pythonpath') ?? [])
  for (const p of r.path) if (p.startsWith('/') && !PYTHON_OWN.test(p) && !listed.has(p)) put('pythonpath', p)
  return o
}

/** The options recorded by the master (or, with lazy-apps, by one of its workers), or null. */
export function recordedOptions(masterPid: number): UwsgiOptions | null {
  const r = masterRecord(masterPid)
  return r ? optionsFromRecord(r) : null
}
