/**
 * `status` as text, like passenger-status: a block of `Name     : value` lines per group, then one
 * aligned row per worker. Columns that the group has no data for (requests the server does not
 * expose) are left out rather than shown empty; the line above says why.
 */
import { formatBytes, formatMs } from '../config.js'
import type { HostListing } from './host-listing.js'
import type { StatusReport, StatusWorker } from './types.js'

export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  if (d) return `${d}d ${h}h`
  if (h) return `${h}h ${m}m`
  if (m) return `${m}m ${s % 60}s`
  return `${s}s`
}

const bytesOrDash = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : formatBytes(n))

function masterLine(r: StatusReport): string {
  const who = `${r.masterPid}${r.server === 'mod_wsgi' ? " (Apache's parent process)" : ''}`
  if (r.gone) return `${who} (not found now: ${r.gone})`
  if (r.problem) return `${who} (running, but not shown as a group: ${r.problem})`
  const m = r.master
  if (!m) return who
  const parts = [who]
  if (m.uptimeMs !== null) parts.push(`up ${formatUptime(m.uptimeMs)}`)
  if (m.rssBytes !== null) parts.push(`RSS ${formatBytes(m.rssBytes)}`)
  if (m.pssBytes !== null) parts.push(`PSS ${formatBytes(m.pssBytes)}`)
  return parts.join(', ')
}

/** The `Memory`, `Listen`, `Requests` and `Replaced` lines, for the facts the report has. */
function factLines(r: StatusReport): string[] {
  const lines: string[] = []
  if (r.memory) {
    const workers = r.memory.processes - 1
    lines.push(`Memory   : ${formatBytes(r.memory.bytes)} ${r.memory.measure}, master + ${workers} worker(s)${r.memory.note ? ` (${r.memory.note})` : ''}`)
  }
  if (r.listen) {
    const l = r.listen
    lines.push(`Listen   : ${l.addresses === null ? `cannot be read: ${l.why}` : l.addresses.length ? l.addresses.join(', ') : 'no listening socket held by the master'}`)
  }
  if (r.requests) lines.push(`Requests : ${'from' in r.requests ? `per worker, from ${r.requests.from}` : r.requests.why}`)
  if (r.replaced && r.replaced.runs > 0) {
    lines.push(`Replaced : ${r.replaced.total} worker(s) by rolling-restart over the last ${r.replaced.runs} run(s) the state file keeps`)
  }
  return lines
}

function stateOf(w: StatusWorker, r: StatusReport): string {
  if (w.role === 'being replaced') return 'Rolling restarting...'
  if (w.role === 'failed' && r.failing?.some((f) => f.pid === w.pid)) return 'failed, serving'
  return w.role
}

function workerTable(r: StatusReport): string[] {
  const withRequests = r.workers.some((w) => typeof w.requests === 'number')
  const withSlots = r.workers.some((w) => w.replacements !== undefined)
  const header = ['PID', 'Uptime', 'CPU', 'RSS', ...(withRequests ? ['Requests'] : []), ...(withSlots ? ['Replaced'] : []), 'Release', 'State']
  const rows = [header]
  for (const w of r.workers) {
    rows.push([
      String(w.pid),
      formatUptime(w.uptimeMs),
      w.cpuPercent === null ? '-' : `${w.cpuPercent.toFixed(0)}%`,
      bytesOrDash(w.rssBytes),
      ...(withRequests ? [typeof w.requests === 'number' ? String(w.requests) : '-'] : []),
      ...(withSlots ? [String(w.replacements ?? 0)] : []),
      w.preloaded ? "preloaded: master's code" : (w.release ?? '-'),
      stateOf(w, r),
    ])
  }
  const widths = header.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)))
  return rows.map((row) => '  ' + row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd())
}

export function renderStatus(r: StatusReport): string {
  const lines: string[] = []
  lines.push(`----------- ${r.server} group: ${r.group} -----------`)
  lines.push(`Master   : ${masterLine(r)}`)
  lines.push(`Mode     : ${r.mode}${r.detail ? ` (${r.detail})` : ''}`)
  lines.push(...factLines(r))
  if (r.surplus) lines.push(`Surplus  : ${r.surplus} worker(s) above the configured count, left by a failed surge`)
  if (r.lastRun) lines.push(`Last run : ${r.lastRun.at} ${r.lastRun.ok ? 'ok' : `stopped (${r.lastRun.aborted})`}, ${r.lastRun.replaced} replaced in ${formatMs(r.lastRun.durationMs)}`)
  if (r.attention) lines.push(`Attention: ${r.attention}`)
  if (r.gone || r.problem) return lines.join('\n') + '\n'
  lines.push(`Workers  : ${r.workers.length}`)
  lines.push(...workerTable(r))
  return lines.join('\n') + '\n'
}

/** What `status` says when it finds nothing at all to list. */
export function nothingFound(stateDir: string): string {
  return (
    'no running Gunicorn, Uvicorn, mod_wsgi (titled by display-name=%{GROUP}) or uWSGI group was found on this host, ' +
    `and no group has been rolled with the state directory ${stateDir} yet; name one with --group NAME (or --pidfile / --master)\n`
  )
}

/** Every group: a header for the host, like passenger-status's general information, then one block per group. */
export function renderListing(l: HostListing): string {
  if (l.groups.length === 0) return nothingFound(l.stateDir)
  const servers = new Map<string, number>()
  for (const g of l.groups) if (!g.gone && !g.problem) servers.set(g.server, (servers.get(g.server) ?? 0) + 1)
  const lines = ['----------- this host -----------']
  lines.push(`Running  : ${l.host.running} group(s)${servers.size ? ` (${[...servers].map(([s, n]) => `${n} ${s}`).join(', ')})` : ''}`)
  lines.push(`State dir: ${l.stateDir}, ${l.host.inStateDir} group(s) recorded`)
  for (const u of l.host.unlisted) lines.push(`Unlisted : ${u.server} master ${u.masterPid}${u.group ? ` [${u.group}]` : ''}: ${u.problem}`)
  return [lines.join('\n') + '\n', ...l.groups.map(renderStatus)].join('\n')
}
