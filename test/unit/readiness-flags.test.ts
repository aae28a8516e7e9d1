// Issue 10's flags: --min-ready, --wait-min-ready, --recycle, checked before anything is touched.
import t from 'tap'
import { parseRestartFlags } from '../../src/run/flags.js'

t.test('--min-ready, --wait-min-ready, --recycle', async (t) => {
  t.equal(parseRestartFlags({}).minReadyMs, 1000, 'default 1 s')
  t.equal(parseRestartFlags({ minReady: '0' }).minReadyMs, 0, '0: no window')
  t.equal(parseRestartFlags({ minReady: '250ms' }).minReadyMs, 250)
  t.throws(() => parseRestartFlags({ minReady: 'soon' }), /--min-ready "soon" is not a duration/)
  t.equal(parseRestartFlags({}).waitMinReady, false, 'by default steps overlap the previous window')
  t.equal(parseRestartFlags({ waitMinReady: true }).waitMinReady, true)
  t.equal(parseRestartFlags({ recycle: true }).recycle, true)
  t.throws(() => parseRestartFlags({ recycle: true, expectRelease: 'r2' }), /--recycle says the code does not change.*use one or the other/)
})
