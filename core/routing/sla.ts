import type { SlaLimit } from '../catalog/types';

/**
 * SLA due times. Hours are clock hours. Working days are counted in the city's local time
 * (`utcOffsetMinutes`, default UTC+8): Saturdays, Sundays and the configured `holidays` are skipped,
 * `workdays` (调休 — weekend days declared working days) are counted; the due time keeps the local
 * clock time of receipt. A report received on a non-working day starts counting from the next
 * working day. No statutory holiday calendar is built in: a city lists its holidays in config.
 */
export interface WorkCalendar {
  utcOffsetMinutes: number;
  /** Local dates (YYYY-MM-DD) that are not working days. */
  holidays: string[];
  /** Local weekend dates (YYYY-MM-DD) that are working days. */
  workdays: string[];
}

export const DEFAULT_CALENDAR: WorkCalendar = { utcOffsetMinutes: 480, holidays: [], workdays: [] };

const DAY = 86_400_000;

function localDate(ms: number, cal: WorkCalendar): string {
  return new Date(ms + cal.utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
}

/** Whether the local day containing `ms` is a working day. */
export function isWorkingDay(ms: number, cal: WorkCalendar = DEFAULT_CALENDAR): boolean {
  const d = localDate(ms, cal);
  if (cal.workdays.includes(d)) return true;
  if (cal.holidays.includes(d)) return false;
  const dow = new Date(ms + cal.utcOffsetMinutes * 60_000).getUTCDay();
  return dow !== 0 && dow !== 6;
}

/** `fromMs` plus `n` working days (same local clock time). */
export function addWorkingDays(fromMs: number, n: number, cal: WorkCalendar = DEFAULT_CALENDAR): number {
  let t = fromMs;
  let left = n;
  // received on a non-working day: the clock starts on the next working day
  while (!isWorkingDay(t, cal)) t += DAY;
  while (left > 0) {
    t += DAY;
    if (isWorkingDay(t, cal)) left--;
  }
  return t;
}

export function dueTime(fromMs: number, limit: SlaLimit, cal: WorkCalendar = DEFAULT_CALENDAR): number {
  if ('hours' in limit) return fromMs + limit.hours * 3_600_000;
  return addWorkingDays(fromMs, limit.workingDays, cal);
}

export function describeLimit(limit: SlaLimit): string {
  return 'hours' in limit ? `${limit.hours} h` : `${limit.workingDays} working days`;
}
