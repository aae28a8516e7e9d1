// Issue 10's flags: --min-ready, --wait-min-ready, --recycle, checked before anything is touched.
import t from 'tap'
import { parseRestartFlags } from '../../src/run/flags.js'

t.test('--min-ready, --wait-min-ready, --recycle', async (t) => {
  t.same(parseRestartFlags({}).minReady, { releaseMs: 1000, eachMs: 0 }, 'default auto: the new worker up longest 1 s, the others nothing of their own')
  t.same(parseRestartFlags({ minReady: 'auto' }).minReady, { releaseMs: 1000, eachMs: 0 }, 'auto, said')
  t.same(parseRestartFlags({ minReady: '0' }).minReady, { releaseMs: 0, eachMs: 0 }, '0: no window')
  t.same(parseRestartFlags({ minReady: '250ms' }).minReady, { releaseMs: 250, eachMs: 250 }, 'a duration: every new worker, the last included')
  t.same(parseRestartFlags({ minReady: '1s' }).minReady, { releaseMs: 1000, eachMs: 1000 })
  t.throws(() => parseRestartFlags({ minReady: 'soon' }), /--min-ready "soon" is neither auto nor a duration: use auto \(the default\), a duration such as 1s or 500ms, or 0 for no window/)
  t.equal(parseRestartFlags({}).waitMinReady, false, 'by default steps overlap the previous window')
  t.equal(parseRestartFlags({ waitMinReady: true }).waitMinReady, true)
  t.equal(parseRestartFlags({ recycle: true }).recycle, true)
  t.throws(() => parseRestartFlags({ recycle: true, expectRelease: 'r2' }), /--recycle says the code does not change.*use one or the other/)
})
