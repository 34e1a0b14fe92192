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

/** A calendar's dates as local day numbers (days since 1970-01-01), built once per calendar object
 * (calendars come from validated config and are not changed afterwards). */
interface DayTable {
  offsetMs: number;
  holidays: Set<number>;
  workdays: Set<number>;
}
const tables = new WeakMap<WorkCalendar, DayTable>();

function dayNumber(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00.000Z`) / DAY);
}

function tableOf(cal: WorkCalendar): DayTable {
  let t = tables.get(cal);
  if (!t) {
    t = { offsetMs: cal.utcOffsetMinutes * 60_000, holidays: new Set(cal.holidays.map(dayNumber)), workdays: new Set(cal.workdays.map(dayNumber)) };
    tables.set(cal, t);
  }
  return t;
}

/** Whether the local day containing `ms` is a working day. */
export function isWorkingDay(ms: number, cal: WorkCalendar = DEFAULT_CALENDAR): boolean {
  const t = tableOf(cal);
  const day = Math.floor((ms + t.offsetMs) / DAY);
  if (t.workdays.has(day)) return true;
  if (t.holidays.has(day)) return false;
  const dow = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday (4)
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
