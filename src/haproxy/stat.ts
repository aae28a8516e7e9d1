/**
 * `show stat BACKEND 4 -1` (the servers of one backend), parsed without side effects. CSV whose first
 * line is the header, prefixed by '# '; values are double-quoted only when they hold a comma or a
 * quote. Columns are found by name.
 */
import type { HaproxyServer } from './server-ref.js'

export interface ServerStat extends HaproxyServer {
  /** current sessions on the server */
  scur: number
  /** HAProxy's status text: UP, DOWN, DRAIN, MAINT, "no check", ... */
  status: string
}

/** One CSV line split into fields, honouring double quotes ("" inside quotes is one quote). */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quoted && c === '"' && line[i + 1] === '"') {
      field += '"'
      i++
    } else if (c === '"') {
      quoted = !quoted
    } else if (c === ',' && !quoted) {
      fields.push(field)
      field = ''
    } else {
      field += c
    }
  }
  fields.push(field)
  return fields
}

/** Server rows of a `show stat` answer (FRONTEND and BACKEND rows left out); null if no CSV header. */
export function parseStat(raw: string): ServerStat[] | null {
  const lines = raw.split('\n').filter((l) => l.trim() !== '')
  const header = lines[0]
  if (!header?.startsWith('#')) return null
  const columns = splitCsvLine(header.replace(/^#\s*/, ''))
  const idx = {
    backend: columns.indexOf('pxname'),
    server: columns.indexOf('svname'),
    scur: columns.indexOf('scur'),
    status: columns.indexOf('status'),
  }
  if (Object.values(idx).some((i) => i < 0)) return null
  return lines
    .slice(1)
    .map(splitCsvLine)
    .filter((f) => f[idx.server] !== 'FRONTEND' && f[idx.server] !== 'BACKEND')
    .map((f) => ({
      backend: f[idx.backend] ?? '',
      server: f[idx.server] ?? '',
      scur: Number(f[idx.scur] || 0),
      status: f[idx.status] ?? '',
    }))
}
