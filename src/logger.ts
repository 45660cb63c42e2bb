import { pino, type Logger } from 'pino';
import type { LogLevel } from './config/index.js';

/**
 * JSON logs to stdout; credentials are redacted wherever a header or field could carry them.
 * Writes are asynchronous so that a request never waits on the log pipe; lines are written as
 * soon as the previous write finishes (batched under load) and flushed when the process exits.
 */
export function createLogger(level: LogLevel, destination: pino.DestinationStream = pino.destination({ dest: 1, sync: false })): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', '*.password', '*.token'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
