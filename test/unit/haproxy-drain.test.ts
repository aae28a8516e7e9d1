// The drain's steps against a scripted HAProxy (a fake transport answering in HAProxy 2.6's words):
// check first, set drain, wait for zero sessions or the timeout, restore; errors before any change.
import t from 'tap'
import { TargetError } from '../../src/errors.js'
import { drain, restore, toRestore } from '../../src/haproxy/drain.js'
import type { HaproxyEvent } from '../../src/haproxy/events.js'
import { haproxyRuntime } from '../../src/haproxy/runtime.js'
import { clock, fakeHaproxy } from '../helpers/haproxy-fake.js'

const h1 = { backend: 'app', server: 'h1' }
const h2 = { backend: 'app', server: 'h2' }

t.test('sets drain, then waits until every named server has no sessions', async (t) => {
  const fake = fakeHaproxy({ app: { h1: { admin: 0, scur: [3, 2, 0] }, h2: { admin: 0, scur: [1, 0] } } })
  const events: HaproxyEvent[] = []
  const results = await drain(haproxyRuntime('/s', { send: fake.send }), [h1, h2], {
    ...clock(),
    intervalMs: 100,
    timeoutMs: 5_000,
    emit: (e) => events.push(e),
  })
  t.same(results.map((r) => [r.server, r.drained, r.scur, r.ms, r.before]), [
    ['h1', true, 0, 200, 'ready'],
    ['h2', true, 0, 100, 'ready'],
  ])
  t.equal(fake.backends.app?.h1?.admin, 8)
  t.same(
    events.map((e) => e.event),
    ['haproxy-drain', 'haproxy-drain', 'haproxy-drained', 'haproxy-drained'],
  )
  t.match(events[0], { server: 'app/h1', scur: 3, before: 'ready' })
  t.same(fake.sent.slice(0, 4), [
    'show cli level',
    'show servers state app',
    'set server app/h1 state drain',
    'set server app/h2 state drain',
  ])
})

t.test('the timeout ends the wait with sessions left: the roll goes ahead', async (t) => {
  const fake = fakeHaproxy({ app: { h1: { admin: 0, scur: [2] } } })
  const events: HaproxyEvent[] = []
  const [r] = await drain(haproxyRuntime('/s', { send: fake.send }), [h1], {
    ...clock(),
    intervalMs: 250,
    timeoutMs: 1_000,
    emit: (e) => events.push(e),
  })
  t.match(r, { drained: false, scur: 2, ms: 1_000 })
  t.match(events.at(-1), { event: 'haproxy-drain-timeout', server: 'app/h1', scur: 2, ms: 1_000 })
})

t.test('nothing is set when the socket is not admin or a name is unknown', async (t) => {
  const user = fakeHaproxy({ app: { h1: { admin: 0, scur: [0] } } }, 'user')
  await t.rejects(drain(haproxyRuntime('/u.sock', { send: user.send }), [h1]), { code: 'haproxy-not-admin' })
  t.notOk(user.sent.some((c) => c.startsWith('set ')))

  const fake = fakeHaproxy({ app: { h1: { admin: 0, scur: [0] } } })
  const runtime = haproxyRuntime('/s', { send: fake.send })
  const noBackend = await drain(runtime, [h1, { backend: 'nope', server: 'h1' }]).catch((e: unknown) => e)
  t.type(noBackend, TargetError)
  t.match(noBackend, { code: 'haproxy-no-backend', message: /it said "Can't find backend\."\): .*\(backends: app\)/ })
  await t.rejects(drain(runtime, [h1, { backend: 'app', server: 'zz' }]), {
    code: 'haproxy-no-server',
    message: /no server "zz" .*\(servers of app: h1\)/,
  })
  t.notOk(fake.sent.some((c) => c.startsWith('set ')))
  t.equal(fake.backends.app?.h1?.admin, 0)
})

t.test('a set refused half-way puts back the servers this drain had set', async (t) => {
  const fake = fakeHaproxy({ app: { h1: { admin: 0, scur: [0] }, h2: { admin: 0, scur: [0] } } })
  const send = async (path: string, command: string): Promise<string> =>
    command === 'set server app/h2 state drain' ? 'Permission denied\n\n' : fake.send(path, command)
  await t.rejects(drain(haproxyRuntime('/s', { send }), [h1, h2]), { code: 'haproxy-not-admin' })
  t.equal(fake.backends.app?.h1?.admin, 0, 'h1 is ready again')
  t.ok(fake.sent.includes('set server app/h1 state ready'))
})

t.test('a server the operator had in maint or drain is left as it was', async (t) => {
  const fake = fakeHaproxy({ app: { h1: { admin: 1, scur: [0] }, h2: { admin: 8, scur: [0] } } })
  const results = await drain(haproxyRuntime('/s', { send: fake.send }), [h1, h2], clock())
  t.same(results.map((r) => r.before), ['maint', 'drain'])
  t.notOk(fake.sent.includes('set server app/h1 state drain'), 'maint is not turned into drain')
  t.equal(fake.backends.app?.h1?.admin, 1)
  t.same(toRestore(results), [])
})

t.test('restore sets ready on every server, then reports the first failure', async (t) => {
  const fake = fakeHaproxy({ app: { h1: { admin: 8, scur: [0] }, h2: { admin: 8, scur: [0] } } })
  const runtime = haproxyRuntime('/s', { send: fake.send })
  const events: HaproxyEvent[] = []
  await t.rejects(restore(runtime, [{ backend: 'app', server: 'zz' }, h1, h2], (e) => events.push(e)), {
    code: 'haproxy-no-server',
    message: /said "No such server\."/,
  })
  t.equal(fake.backends.app?.h1?.admin, 0)
  t.equal(fake.backends.app?.h2?.admin, 0)
  t.same(events, [
    { event: 'haproxy-ready', server: 'app/h1' },
    { event: 'haproxy-ready', server: 'app/h2' },
  ])
})

t.test('an answer this tool cannot read is an error quoting it', async (t) => {
  const send = async (_p: string, command: string): Promise<string> =>
    command === 'show cli level' ? 'admin\n\n' : 'something else\n\n'
  await t.rejects(drain(haproxyRuntime('/s', { send }), [h1]), {
    code: 'haproxy-answer',
    message: 'answered "show servers state app" with something this tool cannot read: "something else"',
  })
})
