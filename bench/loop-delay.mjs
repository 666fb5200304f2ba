/**
 * Preloaded with `node --import` into a process under measurement: samples its event-loop
 * delay so the bench can read it without the measured code knowing. The parent talks to it
 * over the IPC channel: `{ loopDelay: 'reset' }` starts a fresh sample, `{ loopDelay:
 * 'report' }` answers with percentiles in milliseconds.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();

const ms = (ns) => ns / 1e6;

function percentiles() {
  return {
    p50: ms(histogram.percentile(50)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
    mean: ms(histogram.mean),
    samples: histogram.count,
  };
}

if (process.send) {
  process.on('message', (message) => {
    if (message?.loopDelay === 'reset') {
      histogram.reset();
      process.send({ loopDelay: 'reset' });
    } else if (message?.loopDelay === 'report') {
      process.send({ loopDelay: 'report', ...percentiles() });
    }
  });
  // The channel must not keep the process alive: the measured process should exit on
  // SIGTERM exactly as it would without the bench attached.
  process.channel?.unref();
}
