import t from 'tap'
import { parseRestartFlags } from '../../src/run/flags.js'
import { UsageError } from '../../src/errors.js'

t.test('every restart flag is checked before anything is looked up', async (t) => {
  const dir = t.testdir({ 'key': 'k3y\n', 'empty': '\n' })
  const plan = parseRestartFlags({ batch: '2', readyTimeout: '90s', notify: '127.0.0.1:5000', secretFile: `${dir}/key`, strategy: 'surge' })
  t.match(plan, { strategy: 'surge', batch: 2, readyTimeoutMs: 90_000, notify: { host: '127.0.0.1', port: 5000 } })
  t.same(plan.secret, Buffer.from('k3y'), 'the key, trailing newline removed')
  t.equal(parseRestartFlags({ preflight: false }).preflight, null, '--no-preflight')

  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ notify: '4012' }, /--notify "4012" is not host:port/],
    [{ secretFile: `${dir}/missing` }, /--secret-file .*missing: cannot read it \(ENOENT\)/],
    [{ secretFile: `${dir}/empty` }, /--secret-file .*empty is empty/],
    [{ batch: '2', acceptBareOk: true }, /--accept-bare-ok needs --batch 1/],
    [{ strategy: 'rolling' }, /--strategy "rolling" is not one of: replace, surge/],
    [{ olderThan: 'yesterday' }, /--older-than "yesterday" is not a duration/],
    [{ preflightTimeout: '0s' }, /--preflight-timeout "0s" must be greater than zero/],
  ]
  for (const [flags, message] of bad) t.throws(() => parseRestartFlags(flags), message, JSON.stringify(flags))
  t.throws(() => parseRestartFlags({ notify: 'x' }), UsageError)
})

t.test('ROLLING_RESTART_NOTIFY is the default listen address, off means the default', async (t) => {
  const saved = process.env.ROLLING_RESTART_NOTIFY
  t.teardown(() => {
    if (saved === undefined) delete process.env.ROLLING_RESTART_NOTIFY
    else process.env.ROLLING_RESTART_NOTIFY = saved
  })
  process.env.ROLLING_RESTART_NOTIFY = '127.0.0.1:4999'
  t.equal(parseRestartFlags({}).notify.port, 4999)
  process.env.ROLLING_RESTART_NOTIFY = 'off'
  t.equal(parseRestartFlags({}).notify.port, 4012)
  process.env.ROLLING_RESTART_NOTIFY = 'nonsense'
  t.throws(() => parseRestartFlags({}), /ROLLING_RESTART_NOTIFY "nonsense" is not host:port/)
})
