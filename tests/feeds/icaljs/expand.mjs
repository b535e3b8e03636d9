// Expand every VEVENT of an iCalendar text (stdin) the way ical.js-based apps
// (Thunderbird, many web calendars) do, and print [uid, start, end] in UTC as
// JSON lines, for occurrences that start in [argv[2], argv[3]).
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const calendar = new ICAL.Component(ICAL.parse(Buffer.concat(chunks).toString("utf8")));
for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(vtimezone);
}
const after = ICAL.Time.fromJSDate(new Date(process.argv[2]), true);
const before = ICAL.Time.fromJSDate(new Date(process.argv[3]), true);
// Grouped by UID first, as apps do: given a bare VEVENT, ical.js relates every
// RECURRENCE-ID in the whole calendar to it, whatever its UID.
const masters = [];
const exceptions = new Map();
for (const vevent of calendar.getAllSubcomponents("vevent")) {
  const uid = vevent.getFirstPropertyValue("uid");
  if (vevent.hasProperty("recurrence-id")) {
    exceptions.set(uid, [...(exceptions.get(uid) ?? []), vevent]);
  } else {
    masters.push(vevent);
  }
}
const out = [];
for (const vevent of masters) {
  const uid = vevent.getFirstPropertyValue("uid");
  const event = new ICAL.Event(vevent, { strictExceptions: true, exceptions: exceptions.get(uid) ?? [] });
  const iterator = event.iterator();
  for (let next = iterator.next(); next; next = iterator.next()) {
    const details = event.getOccurrenceDetails(next);
    if (details.startDate.compare(before) >= 0) break;
    if (details.startDate.compare(after) < 0) continue;
    out.push([
      event.uid,
      details.startDate.toJSDate().toISOString(),
      details.endDate.toJSDate().toISOString(),
    ]);
    if (!event.isRecurring()) break;
  }
}
process.stdout.write(JSON.stringify(out));
