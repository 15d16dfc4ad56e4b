// Reads an .ics on stdin and prints, as JSON, what ical.js (the parser behind many web calendar
// clients) understands of it: each VEVENT, and the occurrences that start within a window.
// Usage: node parse_ics.mjs WINDOW_START WINDOW_END   (ISO 8601 instants, e.g. 2026-01-01T00:00:00Z)
// Instants are printed as Unix seconds so the Python side compares numbers, not formats.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const [windowStartArg, windowEndArg] = process.argv.slice(2);
if (!windowStartArg || !windowEndArg) {
  console.error("usage: node parse_ics.mjs WINDOW_START WINDOW_END < calendar.ics");
  process.exit(2);
}
const windowStart = Date.parse(windowStartArg) / 1000;
const windowEnd = Date.parse(windowEndArg) / 1000;
// A bound on iterations so a runaway rule cannot hang the test suite.
const MAX_ITERATIONS = 10000;

const vcalendar = new ICAL.Component(ICAL.parse(readFileSync(0, "utf8")));

// A TZID that ical.js cannot resolve from a VTIMEZONE in the file silently becomes floating
// time; fail loudly instead, since that is exactly the bug these tests look for.
function instant(time, what) {
  if (!time.isDate && time.zone !== ICAL.Timezone.utcTimezone) {
    if (!time.zone || time.zone === ICAL.Timezone.localTimezone) {
      throw new Error(`${what}: ${time.toString()} has no resolved time zone`);
    }
  }
  return time.toUnixTime();
}

function text(component, name) {
  const value = component.getFirstPropertyValue(name);
  return value === null ? null : String(value);
}

const vevents = vcalendar.getAllSubcomponents("vevent");
const events = vevents.map((vevent) => {
  const event = new ICAL.Event(vevent);
  const rrule = vevent.getFirstPropertyValue("rrule");
  return {
    uid: event.uid,
    recurrence_id: event.isRecurrenceException() ? instant(event.recurrenceId, "RECURRENCE-ID") : null,
    start: instant(event.startDate, "DTSTART"),
    end: instant(event.endDate, "DTEND"),
    tzid: vevent.getFirstProperty("dtstart").getParameter("tzid") ?? null,
    status: text(vevent, "status"),
    sequence: event.sequence,
    summary: text(vevent, "summary"),
    description: text(vevent, "description"),
    location: text(vevent, "location"),
    url: text(vevent, "url"),
    categories: vevent.getAllProperties("categories").flatMap((p) => p.getValues().map(String)),
    rrule: rrule ? rrule.toString() : null,
    exdates: vevent.getAllProperties("exdate").flatMap((p) => p.getValues().map((t) => instant(t, "EXDATE"))),
  };
});

// Expand each master (a VEVENT without RECURRENCE-ID); ical.js relates the overrides that share
// its UID and applies them in getOccurrenceDetails, like a client would.
const occurrences = [];
for (const vevent of vevents) {
  if (vevent.hasProperty("recurrence-id")) continue;
  const uid = vevent.getFirstPropertyValue("uid");
  const overrides = vevents.filter(
    (other) => other.hasProperty("recurrence-id") && other.getFirstPropertyValue("uid") === uid,
  );
  const event = new ICAL.Event(vevent, { exceptions: overrides, strictExceptions: true });
  const iterator = event.iterator();
  let next;
  let iterations = 0;
  while ((next = iterator.next())) {
    if (++iterations > MAX_ITERATIONS) throw new Error(`${uid}: too many occurrences`);
    if (instant(next, "occurrence") >= windowEnd) break;
    const details = event.getOccurrenceDetails(next);
    const start = instant(details.startDate, "occurrence start");
    if (start < windowStart || start >= windowEnd) continue;
    occurrences.push({
      uid,
      recurrence_id: instant(details.recurrenceId, "occurrence RECURRENCE-ID"),
      start,
      end: instant(details.endDate, "occurrence end"),
      status: text(details.item.component, "status"),
      summary: text(details.item.component, "summary"),
    });
  }
}

const calendar = {
  method: text(vcalendar, "method"),
  name: text(vcalendar, "x-wr-calname"),
  description: text(vcalendar, "x-wr-caldesc"),
  timezones: vcalendar.getAllSubcomponents("vtimezone").map((vtz) => vtz.getFirstPropertyValue("tzid")),
};

process.stdout.write(JSON.stringify({ calendar, events, occurrences }));
