/**
 * The benchmark chart, as hand-written SVG (no browser, no library): one row per scenario, with
 * p99 latency per bucket (log scale) above throughput per bucket, the restart window shaded,
 * failed requests in red. Every row shares the same axes, so rows compare at a glance.
 */
import type { Bucket } from './stats.js'

export interface ChartRow {
  label: string
  /** one line of figures shown next to the label */
  summary: string
  /** seconds after the trigger when the restart was complete */
  windowS: number
  buckets: Bucket[]
  failed: number
}

export interface ChartInput {
  title: string
  subtitle: string
  bucketMs: number
  rows: ChartRow[]
}

const W = 1000
const LEFT = 72
const RIGHT = 20
const PLOT_W = W - LEFT - RIGHT
const LAT_H = 110
const THR_H = 60
const GAP = 16
const ROW_HEAD = 34
const ROW_FOOT = 34
const TOP = 86
const ROW_H = ROW_HEAD + LAT_H + GAP + THR_H + ROW_FOOT

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const f = (n: number) => (Math.round(n * 10) / 10).toString()

function msLabel(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`
}

export function renderChart(input: ChartInput): string {
  const all = input.rows.flatMap((r) => r.buckets)
  const tMin = Math.min(...all.map((b) => b.t))
  const tMax = Math.max(...all.map((b) => b.t + input.bucketMs / 1000))
  const x = (t: number) => LEFT + ((t - tMin) / (tMax - tMin)) * PLOT_W

  const lats = all.map((b) => b.p99).filter((v): v is number => v !== null && v > 0)
  const loExp = Math.floor(Math.log10(Math.max(1, Math.min(...lats))))
  const hiExp = Math.max(loExp + 1, Math.ceil(Math.log10(Math.max(...lats))))
  const yLat = (ms: number) => LAT_H - ((Math.log10(Math.max(ms, 10 ** loExp)) - loExp) / (hiExp - loExp)) * LAT_H

  const rpsMax = niceCeil(Math.max(1, ...all.map((b) => b.rps)))
  const yThr = (rps: number) => THR_H - (rps / rpsMax) * THR_H

  const step = niceStep((tMax - tMin) / 12)
  const ticks: number[] = []
  for (let t = Math.ceil(tMin / step) * step; t <= tMax + 1e-9; t += step) ticks.push(Math.round(t * 1000) / 1000)

  const height = TOP + input.rows.length * ROW_H + 10
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${W}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="24" font-size="16" font-weight="bold">${esc(input.title)}</text>`,
    `<text x="${LEFT}" y="42" font-size="11" fill="#555">${esc(input.subtitle)}</text>`,
  )
  // legend, laid out left to right (about 6 px per character at 11 px)
  const ly = 64
  let lx = LEFT
  const item = (swatch: (x: number) => string, text: string) => {
    out.push(swatch(lx), `<text x="${lx + 28}" y="${ly}">${esc(text)}</text>`)
    lx += 28 + Math.round(text.length * 6.1) + 18
  }
  item((x) => `<rect x="${x}" y="${ly - 9}" width="22" height="12" fill="#f5a623" fill-opacity="0.22"/>`, 'restart window (trigger → all new ready)')
  item((x) => `<line x1="${x}" y1="${ly - 3}" x2="${x + 22}" y2="${ly - 3}" stroke="#1f5fbf" stroke-width="2"/>`, `p99 of 2xx answers per ${input.bucketMs} ms (log; gap: none)`)
  item((x) => `<rect x="${x}" y="${ly - 9}" width="22" height="12" fill="#2e8b57" fill-opacity="0.35" stroke="#2e8b57"/>`, '2xx answers/s')
  item((x) => `<rect x="${x + 8}" y="${ly - 9}" width="6" height="12" fill="#d0021b"/>`, 'failed requests')

  input.rows.forEach((row, i) => {
    const top = TOP + i * ROW_H
    const latTop = top + ROW_HEAD
    const thrTop = latTop + LAT_H + GAP
    out.push(`<g>`)
    out.push(
      `<text x="${LEFT}" y="${top + 20}" font-size="13" font-weight="bold">${esc(row.label)}</text>`,
      `<text x="${LEFT + 200}" y="${top + 20}" font-size="11" fill="${row.failed > 0 ? '#d0021b' : '#333'}">${esc(row.summary)}</text>`,
    )
    // restart window, across both plots
    out.push(
      `<rect x="${f(x(0))}" y="${latTop}" width="${f(Math.max(1, x(row.windowS) - x(0)))}" height="${LAT_H + GAP + THR_H}" fill="#f5a623" fill-opacity="0.22"/>`,
    )
    // frames and grid
    out.push(frame(latTop, LAT_H), frame(thrTop, THR_H))
    for (let e = loExp; e <= hiExp; e++) {
      const y = latTop + yLat(10 ** e)
      out.push(
        `<line x1="${LEFT}" y1="${f(y)}" x2="${LEFT + PLOT_W}" y2="${f(y)}" stroke="#e3e3e3"/>`,
        `<text x="${LEFT - 6}" y="${f(y + 4)}" text-anchor="end" fill="#444">${msLabel(10 ** e)}</text>`,
      )
    }
    for (const v of [rpsMax / 2, rpsMax]) {
      const y = thrTop + yThr(v)
      out.push(
        `<line x1="${LEFT}" y1="${f(y)}" x2="${LEFT + PLOT_W}" y2="${f(y)}" stroke="#e3e3e3"/>`,
        `<text x="${LEFT - 6}" y="${f(y + 4)}" text-anchor="end" fill="#444">${v}/s</text>`,
      )
    }
    out.push(`<text x="${LEFT - 6}" y="${thrTop + THR_H + 4}" text-anchor="end" fill="#444">0</text>`)
    for (const t of ticks) {
      out.push(
        `<line x1="${f(x(t))}" y1="${latTop}" x2="${f(x(t))}" y2="${thrTop + THR_H}" stroke="${t === 0 ? '#999' : '#f0f0f0'}" ${t === 0 ? 'stroke-dasharray="4 3"' : ''}/>`,
        `<text x="${f(x(t))}" y="${thrTop + THR_H + 14}" text-anchor="middle" fill="#444">${t === 0 ? 'trigger' : `${t > 0 ? '+' : ''}${t} s`}</text>`,
      )
    }
    // throughput: a step area
    const half = input.bucketMs / 1000
    let area = `M ${f(x(row.buckets[0]?.t ?? 0))} ${thrTop + THR_H}`
    for (const b of row.buckets) area += ` L ${f(x(b.t))} ${f(thrTop + yThr(b.rps))} L ${f(x(b.t + half))} ${f(thrTop + yThr(b.rps))}`
    area += ` L ${f(x((row.buckets.at(-1)?.t ?? 0) + half))} ${thrTop + THR_H} Z`
    out.push(`<path d="${area}" fill="#2e8b57" fill-opacity="0.35" stroke="#2e8b57" stroke-width="1"/>`)
    // latency: a line broken where no answer completed
    const segments: string[] = []
    let current: string[] = []
    for (const b of row.buckets) {
      if (b.p99 === null) {
        if (current.length) segments.push(current.join(' '))
        current = []
        continue
      }
      current.push(`${f(x(b.t + half / 2))},${f(latTop + yLat(b.p99))}`)
    }
    if (current.length) segments.push(current.join(' '))
    for (const s of segments) {
      if (s.includes(' ')) out.push(`<polyline points="${s}" fill="none" stroke="#1f5fbf" stroke-width="1.6"/>`)
      else out.push(`<circle cx="${s.split(',')[0]}" cy="${s.split(',')[1]}" r="2" fill="#1f5fbf"/>`)
    }
    // failures: red bars from the bottom of the throughput plot, height by count; one count per run of bars
    const failMax = Math.max(1, ...row.buckets.map((b) => b.failed))
    let run: { from: number; to: number; n: number; top: number } | null = null
    const label = (r: NonNullable<typeof run>) =>
      out.push(`<text x="${f((r.from + r.to) / 2)}" y="${f(r.top - 2)}" text-anchor="middle" font-size="9" fill="#d0021b">${r.n}</text>`)
    for (const b of row.buckets) {
      if (b.failed === 0) {
        if (run) label(run)
        run = null
        continue
      }
      const h = Math.max(4, (b.failed / failMax) * THR_H)
      const bx = x(b.t)
      const bw = Math.max(2, x(b.t + half) - bx)
      const top = thrTop + THR_H - h
      out.push(`<rect x="${f(bx)}" y="${f(top)}" width="${f(bw)}" height="${f(h)}" fill="#d0021b"><title>${b.failed} failed</title></rect>`)
      run = run ? { from: run.from, to: bx + bw, n: run.n + b.failed, top: Math.min(run.top, top) } : { from: bx, to: bx + bw, n: b.failed, top }
    }
    if (run) label(run)
    out.push(`<text x="${LEFT + PLOT_W}" y="${thrTop + THR_H + 28}" text-anchor="end" fill="#666">time from the trigger</text>`)
    out.push(`</g>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

function frame(y: number, h: number): string {
  return `<rect x="${LEFT}" y="${y}" width="${PLOT_W}" height="${h}" fill="none" stroke="#bbb"/>`
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

function niceStep(v: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(v, 1e-3)))
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}
