import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * The one logger factory: JSON lines on stdout, what operators ship; for a person at a terminal (stdout a
 * TTY), one readable line per event. Fields that may hold secrets are redacted here, so a careless
 * `log.info({ headers })` cannot leak a token.
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
    destination ?? (process.stdout.isTTY ? forTerminal() : pino.destination({ sync: false })),
  );
}

/**
 * Coloured single lines, written in this thread so they keep their order with anything else printed; a
 * line with `login_url` (the first start's login link) shows the link alone on a line, to click or copy.
 */
function forTerminal() {
  return pretty({
    colorize: true,
    translateTime: 'SYS:HH:MM:ss',
    singleLine: true,
    sync: true,
    ignore: 'pid,hostname,name,login_url,token_file,token_created',
    messageFormat: (o, key) =>
      typeof o.login_url === 'string'
        ? `open the dashboard with this link (it logs you in; the API token is in ${String(o.token_file)}):\n\n    ${o.login_url}\n`
        : String(o[key]),
  });
}
