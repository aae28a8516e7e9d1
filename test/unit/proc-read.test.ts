// The kept-open /proc reads: fresh text on every read, and null once the process is reaped, as a
// new open would say (the kept descriptor never reads another process that took the pid).
import t from 'tap'
import { spawn } from 'node:child_process'
import { readProcHeld, readProcText } from '../../src/proc/proc-read.js'

const fields = (text: string | null) => (text === null ? [] : text.slice(text.lastIndexOf(')') + 2).split(' '))
const stateOf = (text: string | null) => fields(text)[0] ?? null
/** the pid and the start tick: who the text is about */
const identity = (text: string | null) => [text?.split(' ')[0], fields(text)[19]]

t.test('a kept stat reads afresh each time, and null once its process is reaped', async (t) => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' })
  const pid = child.pid as number
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  const path = `/proc/${pid}/stat`
  t.same(identity(readProcHeld(path)), identity(readProcText(path)), 'the same process as a plain read says')
  t.equal(identity(readProcHeld(path))[0], String(pid))
  process.kill(pid, 'SIGSTOP')
  // a stopped process says T: the kept descriptor sees the change
  for (let i = 0; i < 100 && stateOf(readProcHeld(path)) !== 'T'; i++) await new Promise((r) => setTimeout(r, 10))
  t.equal(stateOf(readProcHeld(path)), 'T', 'read afresh: the process is stopped now')
  process.kill(pid, 'SIGKILL')
  await new Promise((r) => child.on('exit', r))
  t.equal(readProcHeld(path), null, 'reaped: null')
  t.equal(readProcHeld(path), null, 'and again')
})

t.test('a file that is not there is null, and is not kept', async (t) => {
  t.equal(readProcHeld('/proc/0/stat'), null)
})
