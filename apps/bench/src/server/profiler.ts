import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'

/**
 * V8's sampling profilers, started and stopped around one measured phase so the profile holds
 * only that phase: the CPU profiler (what `node --cpu-prof` runs) and the sampling heap
 * profiler, whose profile holds the sampled objects still alive when it stops (what an idle
 * connection keeps), by allocation stack.
 */
export class PhaseProfiler {
  private session: Session | undefined

  private post<T>(method: string, params?: object): Promise<T> {
    if (!this.session) {
      this.session = new Session()
      this.session.connect()
    }
    return new Promise((resolve, reject) =>
      this.session!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))),
    )
  }

  async start(intervalUs = 200): Promise<void> {
    await this.post('Profiler.enable')
    await this.post('Profiler.setSamplingInterval', { interval: intervalUs })
    await this.post('Profiler.start')
  }

  async stop(file: string): Promise<void> {
    const { profile } = await this.post<{ profile: unknown }>('Profiler.stop')
    writeFileSync(file, JSON.stringify(profile))
  }

  async heapStart(intervalBytes = 256): Promise<void> {
    await this.post('HeapProfiler.enable')
    await this.post('HeapProfiler.startSampling', { samplingInterval: intervalBytes })
  }

  async heapStop(file: string): Promise<void> {
    const { profile } = await this.post<{ profile: unknown }>('HeapProfiler.stopSampling')
    writeFileSync(file, JSON.stringify(profile))
  }
}
