/**
 * Which workers a run restarts, and in what order. Pure: takes a snapshot of the workers, returns
 * a selection with a reason for everything left out.
 */
export interface WorkerView {
  pid: number
  /** ms since the epoch */
  startedAt: number
  rssBytes?: number | undefined
}

export interface SelectionCriteria {
  /** only workers running for at least this long */
  olderThanMs?: number | undefined
  /** only workers whose resident memory is above this */
  rssAboveBytes?: number | undefined
  /** at most this many per run (the oldest first) */
  maxWorkers?: number | undefined
}

export interface Selection {
  /** oldest first */
  selected: WorkerView[]
  skipped: Array<{ pid: number; why: string }>
}

export function oldestFirst<T extends WorkerView>(workers: readonly T[]): T[] {
  return [...workers].sort((a, b) => a.startedAt - b.startedAt || a.pid - b.pid)
}

export function selectWorkers(workers: readonly WorkerView[], criteria: SelectionCriteria, now: number): Selection {
  const selected: WorkerView[] = []
  const skipped: Selection['skipped'] = []
  for (const w of oldestFirst(workers)) {
    const age = now - w.startedAt
    if (criteria.olderThanMs !== undefined && age < criteria.olderThanMs) {
      skipped.push({ pid: w.pid, why: `up ${Math.round(age / 1000)} s, not older than ${Math.round(criteria.olderThanMs / 1000)} s` })
      continue
    }
    if (criteria.rssAboveBytes !== undefined) {
      if (w.rssBytes === undefined) {
        skipped.push({ pid: w.pid, why: 'memory use unknown' })
        continue
      }
      if (w.rssBytes <= criteria.rssAboveBytes) {
        skipped.push({ pid: w.pid, why: `RSS ${w.rssBytes} bytes, not above ${criteria.rssAboveBytes}` })
        continue
      }
    }
    if (criteria.maxWorkers !== undefined && selected.length >= criteria.maxWorkers) {
      skipped.push({ pid: w.pid, why: `--max-workers ${criteria.maxWorkers} reached` })
      continue
    }
    selected.push(w)
  }
  return { selected, skipped }
}

/**
 * Surge retires workers through the master (Gunicorn TTOU), which always stops its *oldest* worker.
 * So surge can only honour a selection that is the oldest k workers.
 */
export function isOldestPrefix(all: readonly WorkerView[], selected: readonly WorkerView[]): boolean {
  const order = oldestFirst(all)
  return selected.every((w, i) => order[i]?.pid === w.pid)
}

/**
 * Whether a replace run goes through the master (TTIN, then TTOU), so that each old worker's exit
 * overlaps its replacement's boot: the master can stop its oldest worker on request, and the
 * selection is the oldest workers (one by memory may pick others, which only a signal to each one
 * can honour).
 */
export function replacesThroughMaster(strategy: string, canSurge: boolean, all: readonly WorkerView[], selected: readonly WorkerView[]): boolean {
  return strategy === 'replace' && canSurge && selected.length > 0 && isOldestPrefix(all, selected)
}
