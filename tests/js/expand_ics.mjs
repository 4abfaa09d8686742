// Expand the VEVENTs of an iCalendar file with Mozilla's ical.js and print their starts.
// Usage: node expand_ics.mjs calendar.ics FROM TO  (ISO instants; at most 1000 per event)
// Prints JSON: {uid: [{start, end}]} in UTC ("Z") or as dates for all-day occurrences.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const [file, from, to] = process.argv.slice(2);
const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
for (const vtz of root.getAllSubcomponents("vtimezone")) {
  const tz = new ICAL.Timezone(vtz);
  ICAL.TimezoneService.register(tz.tzid, tz);
}
const start = ICAL.Time.fromJSDate(new Date(from), true);
const stop = ICAL.Time.fromJSDate(new Date(to), true);
const shown = (t) => (t.isDate ? t.toString() : t.toJSDate().toISOString().slice(0, 16) + "Z");
const result = {};
for (const vevent of root.getAllSubcomponents("vevent")) {
  if (vevent.hasProperty("recurrence-id")) continue;
  const event = new ICAL.Event(vevent);
  const found = (result[event.uid] = []);
  const it = event.iterator();
  for (let next = it.next(), n = 0; next && n < 1000; next = it.next(), n++) {
    if (next.compare(stop) >= 0) break;
    const details = event.getOccurrenceDetails(next);
    if (details.endDate.compare(start) <= 0) continue;
    found.push({ start: shown(details.startDate), end: shown(details.endDate) });
  }
}
process.stdout.write(JSON.stringify(result));
