// The drain at HAProxy around a roll (src/run/haproxy-around.ts) against a scripted HAProxy: the
// flags, the check before anything is touched, drain -> roll -> ready only after a good roll, a
// failed roll left in drain and said so, and what Ctrl-C during the drain puts back.
import t from 'tap'
import { pino } from 'pino'
import { EXIT, Interrupted, TargetError, UsageError } from '../../src/errors.js'
import { haproxyRuntime } from '../../src/haproxy/runtime.js'
import type { Output } from '../../src/output/logger.js'
import { newStep, type StepState } from '../../src/roll/records.js'
import type { RollOutcome } from '../../src/roll/roller.js'
import type { RestartFlags } from '../../src/run/flags.js'
import { checkHaproxy, drainAround, exitAfterHaproxy, haproxyPlan } from '../../src/run/haproxy-around.js'
import { fakeHaproxy, type FakeServer } from '../helpers/haproxy-fake.js'

const SOCKET = '/run/haproxy/admin.sock'
const flags = (...servers: string[]): RestartFlags => ({ haproxySocket: SOCKET, haproxyServer: servers, haproxyDrainTimeout: '5s' })

/** An Output whose log lines and progress lines are kept. */
const captured = () => {
  const lines: Array<Record<string, unknown>> = []
  const logger = pino({ base: null, timestamp: false }, { write: (s: string) => void lines.push(JSON.parse(s)) })
  const progress: string[] = []
  const out: Output = { logger, progress: (l) => void progress.push(l), event: () => {}, flush: () => {} }
  return { out, lines, progress }
}

/** A roll's outcome with one step per state given. */
const outcome = (ok: boolean, ...states: StepState[]): RollOutcome => ({
  ok,
  steps: states.map((state, i) => ({ ...newStep(i, 100 + i), state })),
  aborted: ok ? null : { reason: 'not-ready', message: 'READY=0', oldPid: 100, newPid: 200 },
  untouched: [],
  surplus: 0,
  durationMs: 10,
})

const setup = (servers: Record<string, FakeServer>) => {
  const fake = fakeHaproxy({ app: servers })
  const connect = (path: string) => haproxyRuntime(path, { send: fake.send })
  return { fake, connect, ...captured() }
}

t.test('the flags: none, one without the other, a bad name, the same server twice', async (t) => {
  t.equal(haproxyPlan({}), null, 'no --haproxy-socket: no drain')
  t.same(haproxyPlan(flags('app/web1', 'app/web2', 'app/web1')), {
    socket: SOCKET,
    servers: [{ backend: 'app', server: 'web1' }, { backend: 'app', server: 'web2' }],
    drainTimeoutMs: 5_000,
  })
  t.equal(haproxyPlan({ haproxySocket: 'rel.sock', haproxyServer: ['a/b'] })?.drainTimeoutMs, 60_000, 'default drain timeout')
  t.throws(() => haproxyPlan({ haproxyServer: ['app/web1'] }), { name: 'UsageError', message: /--haproxy-server app\/web1 needs --haproxy-socket PATH/ })
  t.throws(() => haproxyPlan({ haproxySocket: SOCKET }), { message: /needs at least one --haproxy-server BACKEND\/SERVER/ })
  t.throws(() => haproxyPlan(flags('web1')), UsageError)
  t.throws(() => haproxyPlan(flags('app/web1;shutdown')), /is not BACKEND\/SERVER/)
  t.throws(() => haproxyPlan({ ...flags('app/web1'), haproxyDrainTimeout: 'soon' }), /--haproxy-drain-timeout "soon" is not a duration/)
})

t.test('the check before the lock: a wrong name is exit 3 and nothing is set', async (t) => {
  const { fake, connect, out, lines } = setup({ web1: { admin: 0, scur: [0] } })
  await checkHaproxy(flags('app/web1'), out, connect)
  t.match(lines.at(-1), { event: 'haproxy-checked', servers: [{ server: 'app/web1', admin: 'ready', op: 'up' }] })
  const err = await checkHaproxy(flags('app/web1', 'app/web9'), out, connect).catch((e: unknown) => e)
  t.type(err, TargetError)
  t.match(err, { exitCode: EXIT.TARGET, code: 'haproxy-no-server', message: /--haproxy-server app\/web9: backend "app" has no server "web9".*\(servers of app: web1\)/ })
  t.notOk(fake.sent.some((c) => c.startsWith('set ')), 'no set command sent')
  await checkHaproxy({}, out, connect)
})

t.test('a good roll: drain, then the roll, then ready again', async (t) => {
  const { fake, connect, out, lines, progress } = setup({ web1: { admin: 0, scur: [2, 0] }, web2: { admin: 0, scur: [0] } })
  const order: string[] = []
  const { outcome: o, haproxy } = await drainAround({ flags: flags('app/web1'), out }, async () => {
    order.push(`roll with web1 admin=${fake.backends.app?.web1?.admin}`)
    return outcome(true, 'ready', 'ready')
  }, connect)
  t.equal(o.ok, true)
  t.same(order, ['roll with web1 admin=8'], 'the roll ran with web1 in drain')
  t.equal(fake.backends.app?.web1?.admin, 0, 'web1 is ready again')
  t.equal(fake.backends.app?.web2?.admin, 0, 'a server not named is never touched')
  t.match(haproxy, { socket: SOCKET, drained: ['app/web1'], restored: true, leftDrained: [], leftAsFound: [], timedOut: [] })
  t.equal(haproxy?.message, 'HAProxy: app/web1 ready again.')
  t.same(
    lines.map((l) => l.event),
    ['haproxy-drain', 'haproxy-drained', 'haproxy-ready'],
  )
  t.match(progress, ['haproxy: app/web1 set to drain (2 session(s) in flight)', /^haproxy: app\/web1 has no session left \(\d+ ms\)$/, 'haproxy: app/web1 set back to ready'])
  t.equal(exitAfterHaproxy(EXIT.OK, haproxy), EXIT.OK)
})

t.test('a failed roll leaves the server in drain and says how to bring it back', async (t) => {
  const { fake, connect, out, lines } = setup({ web2: { admin: 0, scur: [0] } })
  const { haproxy } = await drainAround({ flags: flags('app/web2'), out }, async () => outcome(false, 'failed', 'pending'), connect)
  t.equal(fake.backends.app?.web2?.admin, 8, 'still in drain')
  t.notOk(fake.sent.includes('set server app/web2 state ready'))
  t.match(haproxy, { drained: ['app/web2'], restored: false, leftDrained: ['app/web2'] })
  t.match(haproxy?.message, /^HAProxy: app\/web2 is left in drain, so new requests keep away from this host\. /)
  t.match(haproxy?.message, `echo "set server app/web2 state ready" | socat stdio ${SOCKET}`)
  t.match(lines.at(-1), { event: 'haproxy-left-drained', server: 'app/web2', level: 40, why: /the roll stopped \(not-ready\)/ })
  t.equal(exitAfterHaproxy(EXIT.ABORTED, haproxy), EXIT.ABORTED)

  const { connect: c2, out: o2 } = setup({ old: { admin: 8, scur: [0] } })
  const { haproxy: theirs } = await drainAround({ flags: flags('app/old'), out: o2 }, async () => outcome(false, 'failed'), c2)
  t.match(theirs, { drained: [], restored: false, leftDrained: ['app/old'], message: /^HAProxy: this run set no server to drain\. app\/old was in drain before this run/ })
})

t.test('a roll interrupted before it signalled any worker sets the server ready again', async (t) => {
  const { fake, connect, out } = setup({ web1: { admin: 0, scur: [0] } })
  const { haproxy } = await drainAround({ flags: flags('app/web1'), out }, async () => outcome(false, 'pending', 'pending'), connect)
  t.equal(fake.backends.app?.web1?.admin, 0)
  t.match(haproxy, { restored: true, message: 'HAProxy: app/web1 ready again (no worker was touched).' })
})

t.test('a good roll whose server cannot be set ready again: still in drain, exit 3', async (t) => {
  const { fake, out } = setup({ web1: { admin: 0, scur: [0] } })
  const send = async (path: string, command: string): Promise<string> =>
    command === 'set server app/web1 state ready' ? 'Permission denied\n\n' : fake.send(path, command)
  const { haproxy } = await drainAround({ flags: flags('app/web1'), out }, async () => outcome(true, 'ready'), (p) => haproxyRuntime(p, { send }))
  t.match(haproxy, { restored: false, leftDrained: ['app/web1'] })
  t.match(haproxy?.message, /^HAProxy: the roll succeeded, but app\/web1 could not be set back to ready \(.*level admin.*\) and is still in drain/)
  t.equal(exitAfterHaproxy(EXIT.OK, haproxy), EXIT.TARGET)
})

t.test('servers the operator had in drain or maint are left as found', async (t) => {
  const { fake, connect, out } = setup({ web1: { admin: 0, scur: [0] }, old: { admin: 8, scur: [0] }, off: { admin: 1, scur: [0] } })
  const { haproxy } = await drainAround({ flags: flags('app/web1', 'app/old', 'app/off'), out }, async () => outcome(true, 'ready'), connect)
  t.same([fake.backends.app?.web1?.admin, fake.backends.app?.old?.admin, fake.backends.app?.off?.admin], [0, 8, 1])
  t.match(haproxy, { drained: ['app/web1'], restored: true, leftDrained: ['app/old'], leftAsFound: ['app/old', 'app/off'] })
  t.equal(
    haproxy?.message,
    'HAProxy: app/web1 ready again. app/old was in drain before this run and is left so: set it ready when it should take requests again: ' +
      `\`echo "set server app/old state ready" | socat stdio ${SOCKET}\`. app/off was in maint before this run and is left so.`,
  )
  const { connect: c2, out: o2 } = setup({ old: { admin: 8, scur: [0] } })
  const { haproxy: none } = await drainAround({ flags: flags('app/old'), out: o2 }, async () => outcome(true, 'ready'), c2)
  t.match(none, { drained: [], restored: true, leftDrained: ['app/old'], message: /^HAProxy: this run set no server to drain\. app\/old was in drain before this run/ })
})

t.test('a drain HAProxy refuses half-way rolls nothing', async (t) => {
  const { fake, out } = setup({ web1: { admin: 0, scur: [0] }, web2: { admin: 0, scur: [0] } })
  const send = async (path: string, command: string): Promise<string> =>
    command === 'set server app/web2 state drain' ? 'Permission denied\n\n' : fake.send(path, command)
  let rolled = false
  const err = await drainAround({ flags: flags('app/web1', 'app/web2'), out }, async () => ((rolled = true), outcome(true)), (p) => haproxyRuntime(p, { send })).catch((e: unknown) => e)
  t.match(err, { exitCode: EXIT.TARGET, code: 'haproxy-not-admin' })
  t.equal(rolled, false, 'the roll never started')
  t.equal(fake.backends.app?.web1?.admin, 0, 'web1, already set, is ready again')
})

t.test('Ctrl-C while the sessions drain: no roll, the server ready again, exit 130', async (t) => {
  const { fake, connect, out } = setup({ web1: { admin: 0, scur: [5] } })
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 100)
  let rolled = false
  const err = await drainAround({ flags: flags('app/web1'), out, interrupt: controller.signal }, async () => ((rolled = true), outcome(true)), connect).catch((e: unknown) => e)
  t.type(err, Interrupted)
  t.match(err, { exitCode: EXIT.INTERRUPTED, message: 'interrupted while HAProxy drained this host; no worker was touched; set back to ready: app/web1' })
  t.equal(rolled, false)
  t.equal(fake.backends.app?.web1?.admin, 0)
})

t.test('without --haproxy-socket the roll runs as before', async (t) => {
  const { out, lines } = captured()
  const { outcome: o, haproxy } = await drainAround({ flags: {}, out }, async () => outcome(true, 'ready'))
  t.equal(o.ok, true)
  t.equal(haproxy, null)
  t.same(lines, [])
  t.equal(exitAfterHaproxy(EXIT.OK, null), EXIT.OK)
})
