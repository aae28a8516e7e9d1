/**
 * The benchmark's load, in its own process so the bench's own work (polling /proc, spawning,
 * signalling) does not delay the clients. Started with fork() and one JSON argument; sends
 * `{type: 'started'}`, runs until it gets `{type: 'stop'}` (or its own time bound), writes every
 * request record to `out` and sends `{type: 'done'}`.
 *
 * Records are written as arrays, `[start epoch ms, latency ms, status, error?]`, to keep the file small.
 */
import { writeFileSync } from 'node:fs'
import { startLoad, type LoadOptions } from '../src/demo/load.js'

interface ClientOptions extends LoadOptions {
  out: string
}

const o = JSON.parse(process.argv[2] ?? '{}') as ClientOptions
const load = startLoad(o)
// A terminal Ctrl-C reaches the whole process group: the parent decides when the load ends.
process.on('SIGINT', () => undefined)

let finished = false
const finish = async () => {
  if (finished) return
  finished = true
  const records = await load.stop()
  writeFileSync(o.out, JSON.stringify(records.map((r) => (r.error ? [r.start, r.ms, r.status, r.error] : [r.start, r.ms, r.status]))))
  if (process.connected) process.send?.({ type: 'done', count: records.length }, () => process.disconnect())
}

process.on('message', (m: { type?: string }) => {
  if (m.type === 'stop') void finish()
})
// the parent went away: stop, and do not outlive it
process.on('disconnect', () => void finish())
void load.done.then(finish)
process.send?.({ type: 'started', at: Date.now() })
