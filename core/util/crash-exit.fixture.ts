import { open } from 'node:fs';
import { crashExit } from './crash-exit';

/**
 * Child process of crash-exit.test.ts: `<crashExit|process.exit> <fifo|->`. With a FIFO path, one
 * libuv pool thread blocks for ever in open(2) (no writer), as a librdkafka call that ignores its
 * timeout does; then the process exits with 70 the way asked.
 */
const [how, fifo] = process.argv.slice(2);
if (fifo && fifo !== '-') open(fifo, 'r', () => undefined);
setTimeout(() => (how === 'crashExit' ? crashExit(70, 1000) : process.exit(70)), 300);
