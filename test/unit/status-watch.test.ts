import t from 'tap'
import { TargetError } from '../../src/errors.js'
import { CLEAR_SCREEN, watch, watchInterval, type WatchIo } from '../../src/status/watch.js'

t.test('--watch: the interval, and where it is refused (exit 2, naming the flag)', async (t) => {
  t.equal(watchInterval({}, true), null, 'no --watch')
  t.equal(watchInterval({ watch: true }, true), 2000, 'a bare --watch redraws every 2 s')
  t.equal(watchInterval({ watch: '5' }, true), 5000, 'a bare number is seconds')
  t.equal(watchInterval({ watch: '500ms' }, true), 500)
  t.throws(() => watchInterval({ watch: true, json: true }, true), { exitCode: 2, message: /--watch redraws a terminal and --json prints one report: give only one/ })
  t.throws(() => watchInterval({ watch: true }, false), { exitCode: 2, message: /--watch needs a terminal on stdout/ })
  t.throws(() => watchInterval({ watch: 'soon' }, true), { exitCode: 2, message: /--watch "soon" is not a duration/ })
  t.throws(() => watchInterval({ watch: '50ms' }, true), { exitCode: 2, message: /--watch 50ms is too often: give at least 0\.2s/ })
})

const fakeIo = (stopAfter: number, ac: AbortController) => {
  const writes: string[] = []
  const io: WatchIo = {
    write: (s) => void writes.push(s),
    sleep: async () => {
      if (writes.length >= stopAfter) ac.abort()
    },
    now: () => new Date('2026-01-02T03:04:05.000Z'),
  }
  return { io, writes }
}

t.test('watch: clears and redraws until the interrupt; an error of the moment is shown, not fatal', async (t) => {
  const ac = new AbortController()
  const { io, writes } = fakeIo(3, ac)
  let n = 0
  await watch(
    async () => {
      n++
      if (n === 2) throw new TargetError('no Gunicorn group found for --group app')
      return `screen ${n}\n`
    },
    2000,
    ac.signal,
    io,
  )
  t.equal(writes.length, 3, 'one screen per interval, until Ctrl-C')
  t.ok(writes.every((w) => w.startsWith(CLEAR_SCREEN)))
  t.match(writes[0], /Every 2s: rolling-restart status {4}2026-01-02T03:04:05\.000Z {4}\(Ctrl-C to stop\)\n\nscreen 1\n$/)
  t.match(writes[1], /rolling-restart: no Gunicorn group found for --group app\n$/)
  t.match(writes[2], /screen 3\n$/)
})

t.test('watch: a bug is not swallowed', async (t) => {
  const ac = new AbortController()
  const { io } = fakeIo(5, ac)
  await t.rejects(watch(async () => { throw new Error('bug') }, 2000, ac.signal, io), /bug/)
})
