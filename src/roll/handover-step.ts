/**
 * A replace step through the master, where it can stop its oldest worker (Gunicorn): TTIN -> the
 * master forks the replacement at once -> TTOU -> it stops its oldest worker, the one this step
 * replaces -> await the replacement's READY. One worker is out while the replacement boots, as
 * with a signal to the old worker; but the old worker's exit (its interpreter's teardown: 60 to
 * 110 ms for Gunicorn 20.1) runs alongside the boot instead of before it, since a master forks the
 * replacement of a worker it was told to stop only once it has reaped it.
 *
 * Used for a replace run whose selection is the oldest workers (run/roll-tracked.ts). When the
 * step's old worker exited on its own before its turn, the step adopts the master's respawn of
 * it, as a replace step does, and sends nothing.
 */
import { awaitReady } from './await-ready.js'
import type { StepRecord } from './records.js'
import { adopt } from './replace-step.js'
import { surgeDown, surgeUp } from './surge-step.js'
import type { RollRun } from './types.js'
import { lookBeforeSignal } from './watch.js'

export async function handoverStep(run: RollRun, step: StepRecord): Promise<void> {
  // The master's queue is held until the retired worker is reaped: a TTOU before that would stop it again.
  const adopted = await run.withMaster(async () => {
    const workers = lookBeforeSignal(run)
    if (!workers.some((w) => w.pid === step.oldPid)) return true
    await surgeUp(run, step, workers)
    // the retirement is awaited alongside the boot: the next signal waits for the READY, not for it
    await surgeDown(run, step, workers, false)
    return false
  })
  if (adopted) return adopt(run, step)
  step.state = 'awaiting-ready'
  run.progress()
  await awaitReady(run, step)
}
