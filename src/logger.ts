import { pino, type Logger } from 'pino';
import type { LogLevel } from './config/index.js';

/** JSON logs; credentials are redacted wherever a header or body field could carry them. */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
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
