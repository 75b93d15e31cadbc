import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { redactSecrets } from './redact-secrets.ts';

export type { Logger };

/**
 * The one logger factory: JSON lines on stdout, what operators ship; for a person at a terminal (stdout a
 * TTY), one readable line per event. Fields that may hold secrets are redacted here, so a careless
 * `log.info({ headers })` cannot leak a token.
 */
export function createLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  const logger = pino(
    {
      level,
      base: { name: 'pushci' },
      formatters: { log: redactSecrets },
    },
    destination ?? (process.stdout.isTTY ? forTerminal() : pino.destination({ sync: false })),
  );
  // pino passes a child's bindings through no formatter: they are redacted on the way in. Children are
  // made from their parent's prototype chain, so theirs inherit this too.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactSecrets(bindings), options);
  } as Logger['child'];
  return logger;
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
