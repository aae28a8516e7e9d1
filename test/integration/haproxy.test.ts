// The HAProxy drain against a real haproxy 2.6 (Debian) in front of two tiny node HTTP servers:
// drain shows in `show servers state` and moves new requests away, the wait follows scur down to
// zero (or gives up at the timeout), ready restores, and each error case says what HAProxy said.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createNetServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { EXIT } from '../../src/errors.js'
import { drain, restore } from '../../src/haproxy/drain.js'
import type { HaproxyEvent } from '../../src/haproxy/events.js'
import { haproxyRuntime, type HaproxyRuntime } from '../../src/haproxy/runtime.js'
import { sendCommand } from '../../src/haproxy/socket.js'
import { startHaproxy, type Haproxy } from '../helpers/haproxy.js'
import { httpGet } from '../helpers/http.js'
import { waitFor } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'

const h1 = { backend: 'app', server: 'h1' }

/** An HTTP server on a free loopback port answering `NAME` after `?ms=N` milliseconds. */
const tinyServer = async (t: Test, name: string): Promise<number> => {
  const server: Server = createHttpServer((req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0)
    setTimeout(() => res.end(name), ms)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))))
  const address = server.address()
  return typeof address === 'object' && address ? address.port : 0
}

const setup = async (t: Test): Promise<{ haproxy: Haproxy; admin: HaproxyRuntime }> => {
  const [p1, p2] = [await tinyServer(t, 'h1'), await tinyServer(t, 'h2')]
  const haproxy = await startHaproxy(t, {
    backends: { app: [{ name: 'h1', port: p1 }, { name: 'h2', port: p2, check: true }] },
  })
  return { haproxy, admin: haproxyRuntime(haproxy.adminSocket) }
}

const adminOf = async (admin: HaproxyRuntime, server: string) =>
  (await admin.serversState('app')).find((s) => s.server === server)

const answeredBy = async (port: number, n: number): Promise<string[]> => {
  const bodies: string[] = []
  for (let i = 0; i < n; i++) bodies.push((await httpGet(port, '/')).body)
  return bodies
}

t.test('drain: show servers state says drain, new requests go elsewhere; ready restores', async (t) => {
  const { haproxy, admin } = await setup(t)
  t.match(await adminOf(admin, 'h1'), { admin: 'ready', adminFlags: 0 })
  const [result] = await drain(admin, [h1], { timeoutMs: 5_000 })
  t.match(result, { server: 'h1', before: 'ready', drained: true, scur: 0 })
  t.match(await adminOf(admin, 'h1'), { admin: 'drain', adminFlags: 8, op: 'up' })
  t.match((await admin.stat('app')).find((s) => s.server === 'h1'), { status: 'DRAIN' })
  t.same(new Set(await answeredBy(haproxy.port, 6)), new Set(['h2']), 'a drained server gets no new request')

  await restore(admin, [h1])
  t.match(await adminOf(admin, 'h1'), { admin: 'ready', adminFlags: 0 })
  t.same(new Set(await answeredBy(haproxy.port, 6)), new Set(['h1', 'h2']), 'both serve again')
})

t.test('the drain waits for the sessions in flight, and none of them fails', async (t) => {
  const { haproxy, admin } = await setup(t)
  const inFlight = Array.from({ length: 4 }, () => httpGet(haproxy.port, '/?ms=1500'))
  await waitFor(async () => ((await admin.stat('app')).find((s) => s.server === 'h1')?.scur ?? 0) > 0, {
    timeoutMs: 5_000,
    what: 'a session on h1',
  })
  const events: HaproxyEvent[] = []
  const started = Date.now()
  const [result] = await drain(admin, [h1], { timeoutMs: 10_000, intervalMs: 100, emit: (e) => events.push(e) })
  t.match(result, { drained: true, scur: 0 })
  t.ok(Date.now() - started >= 500, `waited for the sessions (${Date.now() - started} ms)`)
  const first = events[0]
  t.ok(first?.event === 'haproxy-drain' && first.scur > 0, `h1 had sessions when drained: ${JSON.stringify(first)}`)
  t.match(events.at(-1), { event: 'haproxy-drained', server: 'app/h1' })
  t.same((await Promise.all(inFlight)).map((r) => r.status), [200, 200, 200, 200])
})

t.test('the drain timeout ends the wait with the session still open', async (t) => {
  const { haproxy, admin } = await setup(t)
  const slow = [httpGet(haproxy.port, '/?ms=4000'), httpGet(haproxy.port, '/?ms=4000')]
  await waitFor(async () => ((await admin.stat('app')).find((s) => s.server === 'h1')?.scur ?? 0) > 0, {
    timeoutMs: 5_000,
    what: 'a session on h1',
  })
  const [result] = await drain(admin, [h1], { timeoutMs: 500, intervalMs: 100 })
  t.match(result, { drained: false })
  t.ok((result?.scur ?? 0) > 0, `sessions left: ${result?.scur}`)
  t.same((await Promise.all(slow)).map((r) => r.status), [200, 200], 'the open session still completes')
  await restore(admin, [h1])
})

t.test('unknown backend and server: HAProxy says so, nothing is changed', async (t) => {
  const { haproxy, admin } = await setup(t)
  t.equal(await sendCommand(haproxy.adminSocket, 'set server nope/h1 state drain', 2_000), 'No such backend.\n\n')
  t.equal(await sendCommand(haproxy.adminSocket, 'set server app/zz state drain', 2_000), 'No such server.\n\n')
  t.equal(await sendCommand(haproxy.adminSocket, 'show servers state nope', 2_000), "Can't find backend.\n\n")

  const noBackend = await drain(admin, [h1, { backend: 'nope', server: 'h1' }]).catch((e: Error) => e)
  t.match(noBackend, { exitCode: EXIT.TARGET, code: 'haproxy-no-backend' })
  t.match(noBackend, { message: `--haproxy-server nope/h1: HAProxy (${haproxy.adminSocket}) has no backend "nope"` })
  t.match(noBackend, { message: `(it said "Can't find backend."): use a backend name from haproxy.cfg (backends: app)` })
  t.comment(`no backend: ${(noBackend as Error).message}`)

  const noServer = await drain(admin, [h1, { backend: 'app', server: 'zz' }]).catch((e: Error) => e)
  t.match(noServer, { code: 'haproxy-no-server', message: /no server "zz" .*\(servers of app: h1, h2\)/ })
  t.comment(`no server: ${(noServer as Error).message}`)
  t.match(await adminOf(admin, 'h1'), { admin: 'ready' }, 'h1 was not drained by the refused call')

  await t.rejects(admin.setState({ backend: 'app', server: 'zz' }, 'ready'), {
    code: 'haproxy-no-server',
    message: 'said "No such server."',
  })
  await t.rejects(admin.setState({ backend: 'nope', server: 'h1' }, 'ready'), {
    code: 'haproxy-no-backend',
    message: 'it said "No such backend."',
  })
})

t.test('a level user socket: "Permission denied", said as the fix', async (t) => {
  const { haproxy, admin } = await setup(t)
  t.equal(await sendCommand(haproxy.userSocket, 'show cli level', 2_000), 'user\n\n')
  t.equal(await sendCommand(haproxy.userSocket, 'set server app/h1 state drain', 2_000), 'Permission denied\n\n')
  const user = haproxyRuntime(haproxy.userSocket)
  const err = await drain(user, [h1]).catch((e: Error) => e)
  t.match(err, { exitCode: EXIT.TARGET, code: 'haproxy-not-admin' })
  t.match(err, { message: `add "level admin" to the "stats socket ${haproxy.userSocket}" line` })
  t.comment(`not admin: ${(err as Error).message}`)
  await t.rejects(user.setState(h1, 'drain'), { code: 'haproxy-not-admin', message: 'is a level "user" socket' })
  t.match(await adminOf(admin, 'h1'), { admin: 'ready' })
})

t.test('no socket, a stale socket file, and a socket that never answers', async (t) => {
  const dir = tempDir(t, 'haproxy-sock')
  const missing = join(dir, 'none.sock')
  const err = await drain(haproxyRuntime(missing), [h1]).catch((e: Error) => e)
  t.match(err, { exitCode: EXIT.TARGET, code: 'haproxy-socket', message: `--haproxy-socket ${missing}: no such socket` })
  t.comment(`missing: ${(err as Error).message}`)

  // A socket file nobody listens on any more (bound, never listening, process gone).
  const stale = join(dir, 'stale.sock')
  const bound = spawnSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stale)})`])
  t.equal(bound.status, 0)
  await t.rejects(drain(haproxyRuntime(stale), [h1]), { code: 'haproxy-socket', message: 'connection refused' })

  // Accepts, never answers: HAProxy hung or overloaded.
  const held: Socket[] = []
  const mute = createNetServer((s) => held.push(s))
  const mutePath = join(dir, 'mute.sock')
  await new Promise<void>((resolve) => mute.listen(mutePath, resolve))
  t.teardown(() => new Promise<void>((resolve) => (held.forEach((s) => s.destroy()), mute.close(() => resolve()))))
  const slow = await drain(haproxyRuntime(mutePath, { commandTimeoutMs: 300 }), [h1]).catch((e: Error) => e)
  t.match(slow, { exitCode: EXIT.TARGET, code: 'haproxy-timeout' })
  t.match(slow, { message: `HAProxy did not answer "show cli level" on --haproxy-socket ${mutePath} within 300 ms` })
  t.comment(`not answering: ${(slow as Error).message}`)
})
