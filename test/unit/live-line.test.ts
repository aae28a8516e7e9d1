import t from 'tap'
import { LiveLine } from '../../src/output/live-line.js'

function terminal() {
  const writes: string[] = []
  let clock = 1000
  const line = new LiveLine({ write: (s: string) => writes.push(s), columns: 200 }, () => clock)
  return { line, writes, tick: (ms: number) => (clock += ms), screen: () => writes.join('') }
}

t.test('says what each in-flight step waits for, and for how long', async (t) => {
  const { line, tick } = terminal()
  line.follow({ event: 'step-start', step: 1, total: 4, oldPid: 5154, action: 'replace' })
  tick(300)
  t.equal(line.text(), '  [1/4] 5154: waiting for it to finish its requests and exit 300 ms')
  line.follow({ event: 'exited', pid: 5154, ms: 300 })
  tick(1210)
  t.equal(line.text(), '  [1/4] 5154: waiting for its replacement to report READY 1.21 s')
  line.follow({ event: 'step-start', step: 2, total: 4, oldPid: 5155, action: 'replace' })
  t.match(line.text(), /\[1\/4\] 5154: .* \| {1}\[2\/4\] 5155: waiting for it to finish/)
  line.follow({ event: 'ready', step: 1, total: 4, oldPid: 5154, newPid: 5160, ms: 1510, status: '200 OK', release: null, bootMs: 1200 })
  t.match(line.text(), /^ {2}\[2\/4\] 5155/)
  line.follow({ event: 'abort', reason: 'not-ready', message: 'x', oldPid: 5155, newPid: null })
  t.equal(line.text(), '', 'nothing in flight after an abort')
  line.stop()
})

t.test('progress lines print above the live line, which is cleared first', async (t) => {
  const { line, writes } = terminal()
  line.follow({ event: 'step-start', step: 1, total: 2, oldPid: 7, action: 'surge' })
  writes.length = 0
  line.print('[1/2] starting a new worker ...')
  t.equal(writes[0], '\r\x1b[2K', 'the live line is erased')
  t.equal(writes[1], '[1/2] starting a new worker ...\n')
  t.match(writes[2], /^ {2}\[1\/2\] 7: waiting for the extra worker to report READY/, 'then drawn again below')
  line.follow({ event: 'run-end', ok: true, replaced: 2, durationMs: 10 })
  t.equal(writes.at(-1), '\r\x1b[2K', 'the end of the run leaves a clean line')
})

t.test('a long line is cut to the terminal width', async (t) => {
  const writes: string[] = []
  const line = new LiveLine({ write: (s: string) => writes.push(s), columns: 40 }, () => 0)
  for (let i = 1; i <= 5; i++) line.follow({ event: 'step-start', step: i, total: 5, oldPid: 1000 + i, action: 'replace' })
  t.ok(line.text().length < 40)
  t.match(line.text(), /\.\.\.$/)
  line.stop()
})
