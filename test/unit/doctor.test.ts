// doctor's report: errors first, each hazard with its fix, the exit code's rule.
import t from 'tap'
import { renderDoctor, sortHazards, type DoctorReport } from '../../src/commands/doctor.js'
import { EXIT } from '../../src/errors.js'
import type { Hazard } from '../../src/servers/types.js'

const w: Hazard = { id: 'no-setproctitle', severity: 'warning', message: 'no title', fix: 'install setproctitle' }
const e: Hazard = { id: 'preload-app', severity: 'error', message: 'preload is on', fix: 'turn it off' }

t.test('errors come first, order otherwise kept', async (t) => {
  t.same(sortHazards([w, e]).map((h) => h.id), ['preload-app', 'no-setproctitle'])
})

t.test('the text names each hazard with its severity and fix, and counts them', async (t) => {
  const r: DoctorReport = { ok: false, group: 'g', server: 'gunicorn', masterPid: 1, hazards: [e, w] }
  const text = renderDoctor(r, 'Gunicorn master 1 [g]')
  t.match(text, /^Gunicorn master 1 \[g\]\n {2}error {3}preload-app: preload is on\n {10}fix: turn it off\n {2}warning no-setproctitle: no title\n {10}fix: install setproctitle\n1 error\(s\), 1 warning\(s\)\n$/)
  t.match(renderDoctor({ ...r, ok: true, hazards: [] }, 'x'), /no hazards found/)
  t.equal(EXIT.HAZARDS, 6, 'exit 6 when an error is found: not 1, which is an internal error')
})
