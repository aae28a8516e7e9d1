// Shared by the readiness-*.test.ts files (issue 10): a Gunicorn group with its own notify port
// and state dir, and the run's JSON log read back as events.
import { makeAppDir, swapApp, type Fixture } from '../helpers/apps.js'
import { runCli, type CliResult } from '../helpers/cli.js'
import { startGunicorn, type GunicornOptions } from '../helpers/gunicorn.js'
import { freeUdpPort } from '../helpers/ports.js'
import { tempDir, type Teardown } from '../helpers/tmp.js'

export interface Report {
  ok: boolean
  message: string
  replaced: Array<{ oldPid: number; newPid: number; readyMs: number; status: string | null; release: string | null }>
  aborted: { reason: string; message: string; oldPid: number | null; newPid: number | null } | null
  errorResistance: boolean
  untouched: number[]
  durationMs: number
}

/** One record of the run's JSON log (pino): the event's own fields, and `time` in ms. */
export type LogEvent = Record<string, unknown> & { event: string; at: number }

export async function gunicornGroup(
  t: Teardown,
  o: { name: string; fixture?: Fixture; workers?: number; revision?: string; env?: Record<string, string> } & Partial<GunicornOptions>,
) {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, o.fixture ?? 'good', { revision: o.revision ?? 'r1' })
  const server = await startGunicorn(t, { gracefulTimeoutSec: 10, ...o, appDir, workers: o.workers ?? 3, notifyPort, env: { BOOT_DELAY: '1.0', ...o.env } })
  const stateDir = tempDir(t, 'state')
  const flags = ['--group', o.name, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir, '--json', '--log-format', 'json']
  return { appDir, server, stateDir, notifyPort, flags }
}

/** The run's log events, in order (stderr with --log-format json). */
export function events(run: CliResult): LogEvent[] {
  const out: LogEvent[] = []
  for (const line of run.stderr.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      const e = JSON.parse(line) as Record<string, unknown>
      if (typeof e.event === 'string') out.push({ ...e, event: e.event, at: Date.parse(String(e.time)) })
    } catch {
      // not a log record
    }
  }
  return out
}

export const ofKind = (all: LogEvent[], kind: string) => all.filter((e) => e.event === kind)

/** Drop `fixture` in as release `revision`, roll once, and hand back the workers before, the run and its report. */
export async function rollRelease(g: Awaited<ReturnType<typeof gunicornGroup>>, fixture: Fixture, revision: string, extra: string[] = []) {
  const original = g.server.workerPids()
  swapApp(g.appDir, fixture, { revision })
  const run = await runCli([...g.flags, ...extra])
  return { original, run, report: run.json as Report }
}
