import { CronExpressionParser } from 'cron-parser';

/** Five fields, as GitHub Actions and crontab write them (cron-parser would also take seconds). */
const FIELDS = 5;

/** What is wrong with a schedule's cron expression, or null. Schedules run in UTC. */
export function cronProblem(expr: string): string | null {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== FIELDS)
    return `it has ${fields.length} field${fields.length === 1 ? '' : 's'}; write five: minute hour day-of-month month day-of-week`;
  try {
    CronExpressionParser.parse(expr, { tz: 'UTC', strict: false });
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** When a cron expression fires next after `from` (ms), in UTC. */
export function nextFire(expr: string, from: number): number {
  return CronExpressionParser.parse(expr, { tz: 'UTC', currentDate: new Date(from) })
    .next()
    .getTime();
}
