/**
 * On a terminal, one line at the bottom that says what the run is waiting for right now and for
 * how long (`  [2/4] 5155: waiting for READY 1.3 s`), rewritten in place. Progress lines print
 * above it. Nothing of this reaches a pipe, a log file or cron mail.
 */
import { formatMs } from '../config.js'
import type { RollEvent } from '../roll/events.js'

interface InFlight {
  step: number
  total: number
  oldPid: number | null
  phase: string
  since: number
}

const CLEAR = '\r\x1b[2K'
const REFRESH_MS = 200

export class LiveLine {
  private readonly steps = new Map<number, InFlight>()
  private timer: NodeJS.Timeout | null = null
  private shown = false

  constructor(
    private readonly out: { write(s: string): unknown; columns?: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Print a progress line above the live line. */
  print(line: string): void {
    this.clear()
    this.out.write(line + '\n')
    this.render()
  }

  follow(e: RollEvent): void {
    switch (e.event) {
      case 'step-start':
        this.steps.set(e.step, {
          step: e.step,
          total: e.total,
          oldPid: e.oldPid,
          phase:
            e.action === 'surge'
              ? 'waiting for the extra worker to report READY'
              : e.via === 'master'
                ? 'waiting for its replacement to report READY'
                : 'waiting for it to finish its requests and exit',
          since: this.now(),
        })
        this.start()
        break
      case 'exited':
        for (const s of this.steps.values()) {
          if (s.oldPid === e.pid) {
            s.phase = 'waiting for its replacement to report READY'
            s.since = this.now()
          }
        }
        break
      case 'ready':
        this.steps.delete(e.step)
        break
      case 'abort':
      case 'run-end':
        this.steps.clear()
        this.stop()
        break
      default:
        break
    }
    this.render()
  }

  /** The text of the live line now (empty when nothing is in flight). */
  text(): string {
    const parts = [...this.steps.values()].map(
      (s) => `[${s.step}/${s.total}] ${s.oldPid ?? '?'}: ${s.phase} ${formatMs(this.now() - s.since)}`,
    )
    const line = parts.length ? `  ${parts.join(' | ')}` : ''
    const width = this.out.columns ?? 120
    return line.length > width - 1 ? line.slice(0, width - 4) + '...' : line
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.clear()
  }

  private start(): void {
    if (this.timer) return
    this.timer = setInterval(() => this.render(), REFRESH_MS)
    this.timer.unref()
  }

  private clear(): void {
    if (this.shown) this.out.write(CLEAR)
    this.shown = false
  }

  private render(): void {
    const line = this.text()
    this.clear()
    if (!line) return
    this.out.write(line)
    this.shown = true
  }
}
