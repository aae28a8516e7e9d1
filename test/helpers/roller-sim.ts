// A simulated server for the step machine's unit tests: a process table in memory, a master that
// starts a replacement when a worker exits, replacements that report after a delay; and `runRoll`,
// which runs the real roller against it (procfs and the boot clock mocked by the simulation).
import type { Arrival } from '../../src/readiness/listener.js'
import type { ServerAdapter, Target } from '../../src/servers/types.js'
import type { RollEvent } from '../../src/roll/events.js'
import type { ProcInfo } from '../../src/proc/procfs.js'

export interface SimOptions {
  workers: number
  /** does the n-th replacement (1-based) report ready? */
  ready?: (n: number) => boolean
  /** replacements that never report */
  silent?: (n: number) => boolean
  exitMs?: number
  bootMs?: number
  /** the n-th replacement's own boot time, instead of bootMs */
  bootMsOf?: (n: number) => number
  /** surge: the master's TTOU stops its oldest worker, unless this says the drain hangs */
  ttouDrainHangs?: boolean
  /** as each replacement starts, a forged READY=1 with its pid and PPID=4242 arrives */
  forge?: boolean
  /** `afterMs` after the first signal (to a worker, or TTIN), the last original worker exits on its own (max-requests) and the master respawns it */
  recycle?: { afterMs: number; bootMs: number }
  /** the n-th replacement dies this long after its READY (and the master respawns it), or lives on (null) */
  diesAfterReadyMs?: (n: number) => number | null
  /** what the server's log says about a dead worker */
  evidence?: { kind: 'crashed' | 'recycled'; detail: string }
  /** `afterMs` after the first READY, the master reloads: N new workers, and `overlapMs` later every other worker stops; `logged`: its log says so */
  reload?: { afterMs: number; overlapMs: number; logged: boolean }
}

export function simulation(o: SimOptions) {
  const live = new Map<number, number>() // pid -> start tick
  let tick = 1
  let nextPid = 100
  let spawned = 0
  const inbox: Arrival[] = []
  let inFlight = 0
  let maxInFlight = 0
  const signalled: number[] = []
  const spawn = (bootMs = o.bootMs ?? 15, counted = true) => {
    const pid = nextPid++
    live.set(pid, tick++)
    const n = counted ? ++spawned : 0
    if (counted && o.bootMsOf) bootMs = o.bootMsOf(n)
    if (o.forge) inbox.push({ at: Date.now(), from: 'forger', value: { kind: 'full', ready: true, pid, ppid: 4242, group: 'g', status: '200 OK', statusCode: 200, release: 'r2', root: null, bootMs: 1, preload: false, app: null, mac: null } })
    if (o.silent?.(n)) return
    setTimeout(() => {
      if (!live.has(pid)) return
      inbox.push({ at: Date.now(), from: 'sim', value: { kind: 'full', ready: o.ready ? o.ready(n) : true, pid, ppid: 1, group: 'g', status: (o.ready ? o.ready(n) : true) ? '200 OK' : '500 Internal Server Error', statusCode: (o.ready ? o.ready(n) : true) ? 200 : 500, release: 'r2', root: null, bootMs: 5, preload: false, app: null, mac: null } })
      if (counted) inFlight--
      if (o.reload && n === 1) setTimeout(reloadAll, o.reload.afterMs)
      const dies = counted ? o.diesAfterReadyMs?.(n) : null
      if (dies !== null && dies !== undefined) {
        setTimeout(() => {
          live.delete(pid)
          spawn(bootMs, false)
        }, dies)
      }
    }, bootMs)
    return pid
  }
  let respawned: number | null = null
  let reloaded = false
  const reloadAll = () => {
    reloaded = true
    const before = [...live.keys()]
    for (let i = 0; i < o.workers; i++) spawn(1000, false)
    setTimeout(() => before.forEach((p) => live.delete(p)), o.reload?.overlapMs ?? 0)
  }
  for (let i = 0; i < o.workers; i++) live.set(nextPid++, tick++)
  const original = [...live.keys()]
  const stopping = new Set<number>()
  let ttins = 0
  let ttous = 0
  let recycleArmed = false
  // on the run's first signal (to a worker, or TTIN)
  const armRecycle = () => {
    if (!o.recycle || recycleArmed) return
    recycleArmed = true
    const { afterMs, bootMs } = o.recycle
    setTimeout(() => {
      live.delete(original[original.length - 1] as number)
      respawned = spawn(bootMs, false)
    }, afterMs)
  }
  const procfs = {
    isAlive: (pid: number) => pid === 1 || live.has(pid),
    isSameProcess: (pid: number, ticks: number) => pid === 1 || live.get(pid) === ticks,
    readStat: (pid: number) => (live.has(pid) ? { pid, comm: 'w', state: 'S', ppid: 1, startTicks: live.get(pid) } : null),
    signal: (pid: number) => {
      if (!live.has(pid)) return 'gone'
      armRecycle()
      signalled.push(pid)
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      setTimeout(() => {
        live.delete(pid)
        spawn()
      }, o.exitMs ?? 5)
      return 'sent'
    },
    sleep: (ms: number) => new Promise((r) => setTimeout(r, ms)),
  }
  const info = (pid: number): ProcInfo => ({ pid, comm: 'w', state: 'S', ppid: 1, startTicks: live.get(pid) ?? 0, argv: [], cmdline: 'worker', startedAt: live.get(pid) ?? 0 })
  const adapter: ServerAdapter = {
    kind: 'gunicorn',
    label: 'Sim',
    stopSignal: 'SIGTERM',
    canSurge: true,
    surgeUp: () => {
      armRecycle()
      ttins++
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      spawn()
    },
    // as Gunicorn's manage_workers: TERM to the oldest worker it lists, which may be one already
    // stopping and not reaped yet (then no other worker is stopped)
    surgeDown: () => {
      ttous++
      if (o.ttouDrainHangs) return
      const oldest = [...live.entries()].sort((a, b) => a[1] - b[1])[0]
      if (!oldest || stopping.has(oldest[0])) return
      stopping.add(oldest[0])
      setTimeout(() => {
        live.delete(oldest[0])
        stopping.delete(oldest[0])
      }, o.exitMs ?? 5)
    },
    resolve: () => null,
    workers: () => [...live.keys()].map(info),
    exitEvidence: () => o.evidence ?? null,
    logMark: () => ({ path: 'sim.log', offset: 0 }),
    reloadSince: () => (reloaded && o.reload?.logged ? '[INFO] Handling signal: hup' : null),
    masterGoneHint: () => 'master gone',
    noReadyHint: () => 'no datagram',
    wrongReleaseHint: () => 'old code',
  }
  const listener = {
    claim: (pick: (a: Arrival) => boolean) => {
      const i = inbox.findIndex(pick)
      return i < 0 ? null : (inbox.splice(i, 1)[0] ?? null)
    },
    drop: (pick: (a: Arrival) => boolean) => {
      const out = inbox.filter(pick)
      inbox.splice(0, inbox.length, ...inbox.filter((a) => !out.includes(a)))
      return out
    },
    wait: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    rejectedSince: () => [],
  }
  const target: Target = { server: 'gunicorn', group: 'g', masterPid: 1, masterStartTicks: 0, description: 'Sim master 1 [g]', via: 'group', meta: {} }
  const inject = (a: Arrival) => inbox.push(a)
  // the boot-relative clock: process start ticks and signal ticks count on the same scale
  const clock = { bootTick: () => tick }
  return { procfs, clock, adapter, listener, target, original, live, signalled, inject, stats: () => ({ maxInFlight, ttins, ttous }), info, respawned: () => respawned }
}

export async function runRoll(
  t: Tap.Test,
  sim: ReturnType<typeof simulation>,
  opts: {
    batch: number
    readyTimeoutMs?: number
    strategy?: 'replace' | 'surge'
    /** replace through the master: TTIN, then TTOU */
    handover?: boolean
    surplusToRetire?: number
    drainTimeoutMs?: number
    selected?: number
    /** one window for every replacement, as `--min-ready DURATION` gives */
    minReadyMs?: number
    /** the two windows, as `--min-ready auto` gives; over minReadyMs */
    minReady?: { releaseMs: number; eachMs: number }
    waitMinReady?: boolean
  },
) {
  const { roll } = await t.mockImport<typeof import('../../src/roll/roller.js')>('../../src/roll/roller.js', {
    '../../src/proc/procfs.js': sim.procfs,
    '../../src/proc/boot-clock.js': { ...(await import('../../src/proc/boot-clock.js')), ...sim.clock },
  })
  const events: RollEvent[] = []
  const workers = sim.original.map(sim.info)
  const outcome = await roll({
    adapter: sim.adapter,
    target: sim.target,
    listener: sim.listener as never,
    workers,
    selected: workers.slice(0, opts.selected ?? workers.length),
    emit: (e) => events.push(e),
    options: {
      strategy: opts.strategy ?? 'replace',
      handover: opts.handover,
      batch: opts.batch,
      readyTimeoutMs: opts.readyTimeoutMs ?? 2_000,
      drainTimeoutMs: opts.drainTimeoutMs ?? 2_000,
      masterReactTimeoutMs: 1_000,
      pollIntervalMs: 2,
      acceptBareOk: false,
      surplusToRetire: opts.surplusToRetire ?? 0,
      minReady: opts.minReady ?? { releaseMs: opts.minReadyMs ?? 0, eachMs: opts.minReadyMs ?? 0 },
      waitMinReady: opts.waitMinReady ?? false,
    },
  })
  return { outcome, events }
}
