// `rolling-restart demo` for real: it starts Gunicorn, rolls it under load, and leaves nothing behind,
// also when interrupted with SIGINT halfway through the roll.
import t from 'tap'
import { leftovers, runDemo } from '../helpers/demo.js'
import { signalPid, waitFor } from '../helpers/procs.js'

t.test('the demo rolls every worker with no failed request and leaves no process behind', async (t) => {
  const demo = runDemo(t)
  const run = await demo.result
  t.equal(run.code, 0, 'exit 0', { stdout: run.stdout, stderr: run.stderr.slice(-2000) })
  const master = Number(/gunicorn master PID (\d+)/.exec(run.stdout)?.[1])
  t.ok(master > 0, 'the output names the gunicorn master pid')
  t.ok(demo.seen.has(master), 'that pid was a child of the demo')
  t.match(run.stdout, /workers replaced: 4 of 4 in /)
  t.match(run.stdout, /requests during the roll: [1-9]\d* served, failed: 0 /)
  const replaced = [...run.stdout.matchAll(/^ {4}(\d+) -> (\d+) {2}boot (\d+(?:\.\d+)?) (s|ms), ready .*, release v2$/gm)]
  t.equal(replaced.length, 4, 'one line per replaced worker, each with its boot time and the new release')
  for (const m of replaced) t.ok(demo.seen.has(Number(m[1])) && demo.seen.has(Number(m[2])), `workers ${m[1]} and ${m[2]} were the demo's`)
  t.match(run.stdout, /GET \/ now answers: hello from worker \d+, release v2/)
  t.match(run.stdout, /no process left/)
  t.ok(demo.seen.size >= 1 + 4 + 4 + 1, `the demo ran a master, 4 + 4 workers and the CLI (${demo.seen.size} processes seen)`)
  t.same(leftovers(demo.seen), [], 'none of the processes the demo started is still running')
})

t.test('SIGINT during the roll stops it and leaves no process behind', async (t) => {
  const demo = runDemo(t, ['--workers', '3', '--boot', '2'])
  await waitFor(() => /\[1\/3\] replacing \d+/.test(demo.stdout()), { timeoutMs: 60_000, what: 'the roll to start' })
  t.ok(signalPid(demo.pid, 'SIGINT'), 'SIGINT sent to the demo')
  const run = await demo.result
  t.equal(run.code, 130, 'exit 130', { stdout: run.stdout, stderr: run.stderr.slice(-2000) })
  t.match(run.stdout, /interrupted: stopping the roll, the load and the server/)
  t.match(run.stdout, /stopped gunicorn master PID \d+ .*no process left/)
  t.ok(demo.seen.size >= 4, `processes seen: ${[...demo.seen.keys()].join(' ')}`)
  t.same(leftovers(demo.seen), [], 'none of the processes the demo started is still running')
})

t.test('without Gunicorn the demo says how to install it and exits 3', async (t) => {
  const demo = runDemo(t, ['--gunicorn', '/nonexistent/bin/gunicorn'])
  const run = await demo.result
  t.equal(run.code, 3)
  t.match(run.stderr, /--gunicorn \/nonexistent\/bin\/gunicorn: no executable file there.*sudo apt-get install gunicorn python3-setproctitle.*scripts\/setup\.sh/)
  t.equal(demo.seen.size, 0, 'started nothing')
})
