import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The one logger factory: JSON lines on stdout (pretty, coloured lines when stdout is a terminal). Fields that may hold secrets are redacted here, so a
 * careless `log.info({ headers })` cannot leak a token.
 */
export function createLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { name: 'pushci' },
      redact: {
        paths: [
          'secret',
          '*.secret',
          'token',
          '*.token',
          'headers.authorization',
          'headers["x-gitlab-token"]',
          'headers["x-hub-signature-256"]',
          'headers["x-hub-signature"]',
          'headers["webhook-signature"]',
          'env',
          '*.env',
        ],
        censor: '[redacted]',
      },
    },
    destination ??
      (process.stdout.isTTY
        ? pino.transport({
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'SYS:HH:MM:ss' },
          })
        : pino.destination({ sync: false })),
  );
}
