/**
 * Replacements per slot. A slot is a line of workers, each of which replaced the one before it
 * through one of this tool's steps: the state file records, for each live worker, the worker it
 * replaced (`replacedPid`), and from this version on how many replacements its line has had
 * (`slotReplacements`). Gunicorn, Uvicorn and mod_wsgi number no slots of their own, so the line
 * is the only slot there is to count; uWSGI respawns a worker in its own numbered slot, which is
 * the same line as long as only this tool replaces it.
 *
 * What the records cannot hold, the count leaves out: a worker the server respawned on its own (a
 * crash, max-requests) has no record, so its line starts again at 0; a record written before
 * `slotReplacements` existed counts 1.
 */
import type { WorkerRecord } from './state-file.js'

/** How many times the slot of the worker with this record was replaced by this tool (0: no record, never replaced). */
export function replacementsOf(record: WorkerRecord | undefined): number {
  if (!record) return 0
  return record.slotReplacements ?? (record.replacedPid !== null ? 1 : 0)
}

/** The count for a new worker that replaced `oldPid`: one more than its predecessor's. */
export function nextReplacements(workers: Readonly<Record<string, WorkerRecord>>, oldPid: number | null): number {
  return (oldPid === null ? 0 : replacementsOf(workers[String(oldPid)])) + 1
}
