import t from 'tap'
import { createHmac } from 'node:crypto'
import {
  computeMac,
  encodeDatagram,
  isReady,
  parseDatagram,
  secretFromFileContent,
  statusCodeOf,
} from '../../src/readiness/protocol.js'

const full = 'READY=1\nPID=5154\nPPID=5150\nGROUP=app:blue\nSTATUS=200 OK\nRELEASE=2026-05-09\nROOT=/srv/app/releases/2026-05-09\nBOOT_MS=1173\n'

t.test('parses a complete datagram', async (t) => {
  const r = parseDatagram(Buffer.from(full))
  t.ok(r.ok)
  if (!r.ok || r.value.kind !== 'full') return t.fail('not a full datagram')
  t.match(r.value, {
    ready: true,
    pid: 5154,
    ppid: 5150,
    group: 'app:blue',
    status: '200 OK',
    statusCode: 200,
    release: '2026-05-09',
    root: '/srv/app/releases/2026-05-09',
    bootMs: 1173,
    mac: null,
  })
  t.equal(isReady(r.value), true)
})

t.test('READY=0 and non-2xx statuses are parsed but not ready', async (t) => {
  const r0 = parseDatagram(Buffer.from('READY=0\nPID=7\nSTATUS=500 Internal Server Error\n'))
  t.ok(r0.ok && !isReady(r0.value))
  const r1 = parseDatagram(Buffer.from('READY=1\nPID=7\nSTATUS=503 Service Unavailable\n'))
  t.ok(r1.ok && !isReady(r1.value), 'READY=1 with a 503 status is still not ready')
  const r2 = parseDatagram(Buffer.from('READY=0\nPID=7\nSTATUS=error: RuntimeError: boom\n'))
  t.ok(r2.ok && r2.value.statusCode === null && !isReady(r2.value))
})

t.test('PRELOAD=1 marks a worker forked from a preloading master', async (t) => {
  const r = parseDatagram(Buffer.from('READY=1\nPID=9\nRELEASE=r2\nPRELOAD=1\n'))
  t.ok(r.ok && r.value.kind === 'full' && r.value.preload)
  const plain = parseDatagram(Buffer.from(full))
  t.ok(plain.ok && plain.value.kind === 'full' && !plain.value.preload)
  const round = parseDatagram(encodeDatagram({ ready: true, pid: 3, preload: true }))
  t.ok(round.ok && round.value.kind === 'full' && round.value.preload, 'encode writes it')
})

t.test('APP carries the app spec the worker was started with', async (t) => {
  const r = parseDatagram(Buffer.from('READY=1\nPID=9\nAPP=myproject.wsgi:application\n'))
  t.ok(r.ok && r.value.kind === 'full' && r.value.app === 'myproject.wsgi:application')
  const none = parseDatagram(Buffer.from(full))
  t.ok(none.ok && none.value.kind === 'full' && none.value.app === null)
})

t.test('optional fields may be absent; unknown keys are ignored', async (t) => {
  const r = parseDatagram(Buffer.from('READY=1\nPID=42\nFUTURE_FIELD=x\n'))
  t.ok(r.ok)
  if (r.ok && r.value.kind === 'full') {
    t.equal(r.value.ppid, null)
    t.equal(r.value.release, null)
    t.equal(isReady(r.value), true, 'no STATUS line: READY=1 alone counts')
  }
})

t.test('malformed input is rejected with a reason, never guessed at', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['', 'empty', /READY/],
    ['hello world', 'prose', /KEY=VALUE/],
    ['READY=1\n', 'no PID', /PID/],
    ['READY=yes\nPID=1\n', 'READY not 0/1', /READY must be 0 or 1/],
    ['READY=1\nPID=-3\n', 'negative PID', /PID/],
    ['READY=1\nPID=12abc\n', 'PID with junk', /PID/],
    ['READY=1\nPID=0\n', 'PID zero', /PID/],
    ['READY=1\nPID=1\nPID=2\n', 'duplicate key', /twice/],
    ['READY=1\nPID=1\nPPID=x\n', 'bad PPID', /PPID/],
    ['READY=1\nPID=1\nBOOT_MS=1.5\n', 'bad BOOT_MS', /BOOT_MS/],
    ['ready=1\npid=1\n', 'lower-case keys', /bad key/],
    ['READY=1\nMAC=ab\nPID=1\n', 'MAC not last', /last/],
  ]
  for (const [input, what, detail] of cases) {
    const r = parseDatagram(Buffer.from(input))
    t.notOk(r.ok, what)
    if (!r.ok) {
      t.equal(r.reason, 'malformed', `${what}: reason`)
      t.match(r.detail, detail, `${what}: detail`)
    }
  }
  const bad = parseDatagram(Buffer.from([0x52, 0x45, 0xff, 0xfe, 0x0a]))
  t.notOk(bad.ok, 'invalid UTF-8')
})

t.test('oversized datagrams are dropped unread', async (t) => {
  const big = Buffer.from(full + 'PAD=' + 'x'.repeat(2100) + '\n')
  const r = parseDatagram(big)
  t.notOk(r.ok)
  if (!r.ok) t.equal(r.reason, 'oversized')
  t.ok(parseDatagram(Buffer.from(full + 'PAD=' + 'x'.repeat(2048 - full.length - 5) + '\n')).ok, 'exactly 2048 bytes is fine')
})

t.test('MAC: HMAC-SHA256 over every byte before the MAC line', async (t) => {
  const key = Buffer.from('s3cret')
  const signed = encodeDatagram({ ready: true, pid: 99, ppid: 1, status: '200 OK' }, key)
  const text = signed.toString()
  const body = text.slice(0, text.indexOf('MAC='))
  t.equal(text.split('\n').at(-2), `MAC=${createHmac('sha256', key).update(body).digest('hex')}`, 'independently computed MAC matches')
  t.ok(parseDatagram(signed, { secret: key }).ok, 'valid MAC accepted')

  const wrongKey = parseDatagram(signed, { secret: Buffer.from('other') })
  t.notOk(wrongKey.ok)
  if (!wrongKey.ok) t.equal(wrongKey.reason, 'bad-mac')

  const tampered = Buffer.from(text.replace('PID=99', 'PID=98'))
  const r = parseDatagram(tampered, { secret: key })
  t.notOk(r.ok, 'a changed field breaks the MAC')
  if (!r.ok) t.equal(r.reason, 'bad-mac')

  const unsigned = parseDatagram(Buffer.from(full), { secret: key })
  t.notOk(unsigned.ok)
  if (!unsigned.ok) t.equal(unsigned.reason, 'unsigned')

  t.ok(parseDatagram(signed).ok, 'without a secret, a MAC is carried but not checked')
  t.equal(computeMac(key, Buffer.from('')), createHmac('sha256', key).digest('hex'))
})

t.test('bare "200 OK" only with --accept-bare-ok, never with a secret', async (t) => {
  const r = parseDatagram(Buffer.from('200 OK\n'))
  t.notOk(r.ok)
  if (!r.ok) {
    t.equal(r.reason, 'bare')
    t.match(r.detail, /--accept-bare-ok/)
  }
  const ok = parseDatagram(Buffer.from('200 OK'), { acceptBareOk: true })
  t.ok(ok.ok && ok.value.kind === 'bare' && isReady(ok.value))
  const fail = parseDatagram(Buffer.from('500 Internal Server Error\n'), { acceptBareOk: true })
  t.ok(fail.ok && !isReady(fail.value), 'a bare 500 is a failed boot')
  const signedOnly = parseDatagram(Buffer.from('200 OK'), { acceptBareOk: true, secret: Buffer.from('k') })
  t.notOk(signedOnly.ok)
  if (!signedOnly.ok) t.equal(signedOnly.reason, 'unsigned')
})

t.test('encode sanitizes control characters so a value cannot add a line', async (t) => {
  const d = encodeDatagram({ ready: false, pid: 5, status: 'error: bad\nPID=1' })
  const r = parseDatagram(d)
  t.ok(r.ok)
  if (r.ok && r.value.kind === 'full') {
    t.equal(r.value.pid, 5)
    t.equal(r.value.status, 'error: bad PID=1')
  }
})

t.test('helpers', async (t) => {
  t.equal(statusCodeOf('200 OK'), 200)
  t.equal(statusCodeOf('timeout after 10s'), null)
  t.equal(statusCodeOf(null), null)
  t.same(secretFromFileContent(Buffer.from('key with space \r\n\t\n')), Buffer.from('key with space'))
  t.equal(secretFromFileContent(Buffer.from(' \n')).length, 0)
})
